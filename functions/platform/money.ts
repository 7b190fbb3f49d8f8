import { z } from 'zod';

/**
 * Money arrives as a JSON number or a decimal string with at most 4 decimals
 * and is kept as a canonical decimal string, never as a float. A JSON number
 * is accepted only when its shortest decimal form (what JSON.parse read) has
 * at most 4 decimals, so 19.99 stays "19.99" and 0.12345 is rejected.
 */
const DECIMAL = /^(0|[1-9]\d{0,14})(\.\d{1,4})?$/;

export const canonicalDecimal = (text: string): string => {
  const [whole, fraction = ''] = text.split('.');
  const trimmed = fraction.replace(/0+$/, '');
  return trimmed ? `${whole}.${trimmed}` : `${whole}`;
};

export const moneySchema = z
  .union([z.number(), z.string()])
  .transform((value, ctx) => {
    const text = typeof value === 'number' ? String(value) : value;
    if (!DECIMAL.test(text)) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be a non-negative amount with at most 15 digits before and 4 after the decimal point',
      });
      return z.NEVER;
    }
    return canonicalDecimal(text);
  });

export const currencySchema = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as "USD"');
