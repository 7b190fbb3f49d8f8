import * as z from 'zod';

/**
 * Money arrives as a JSON number or a decimal string with at most 4 decimals
 * and is kept as a canonical decimal string, never as a float. A JSON number
 * is accepted only when its shortest decimal form (what JSON.parse read) has
 * at most 4 decimals, so 19.99 stays "19.99" and 0.12345 is rejected.
 * Where the currency is known, amounts are written with its minor unit's
 * digits (amountIn): "4.20" USD is returned as "4.20", not "4.2".
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

/** How a money field of a response is documented. */
export const MONEY_OUT = 'decimal string, exact, with at least the minor-unit digits of its currency ("4.20" USD, "400" JPY) and up to 4 decimals';

/** The ISO 4217 codes the runtime's ICU knows: the same list that decides each currency's minor unit below. */
const KNOWN_CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

export const currencySchema = z
  .string()
  .regex(/^[A-Z]{3}$/, { message: 'must be an ISO 4217 code such as "USD"', abort: true })
  .refine((code) => KNOWN_CURRENCIES.has(code), 'is not a currency known to ISO 4217 (e.g. "USD", "EUR", "JPY")');

/** Digits after the decimal point of the currency's minor unit: 2 for USD and EUR, 0 for JPY, 3 for BHD. */
const MINOR_UNIT_DIGITS = new Map<string, number>();

export const minorUnitDigits = (currency: string): number => {
  // Building an Intl.NumberFormat costs ~30 µs; formatting a valuation asks for each of thousands of amounts, so once per currency.
  let digits = MINOR_UNIT_DIGITS.get(currency);
  if (digits === undefined) {
    digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().minimumFractionDigits ?? 2;
    MINOR_UNIT_DIGITS.set(currency, digits);
  }
  return digits;
};

/**
 * An amount as it is stored and returned in its currency: exactly its value,
 * with at least the minor unit's digits ("4.2" USD is "4.20", "400" JPY stays
 * "400") and every significant decimal it was given ("4.1234" USD stays).
 */
export const amountIn = (amount: string, currency: string): string => {
  const [whole, fraction = ''] = canonicalDecimal(amount).split('.');
  const digits = fraction.padEnd(minorUnitDigits(currency), '0');
  return digits ? `${whole}.${digits}` : `${whole}`;
};

/** A record's `unit_cost` and `price` written in its `currency` (see amountIn); without a currency they are left as they are. */
export const pricedIn = <T extends { unit_cost?: string; price?: string; currency?: string }>(value: T): T => {
  const { currency } = value;
  if (currency === undefined) return value;
  return {
    ...value,
    ...(value.unit_cost === undefined ? {} : { unit_cost: amountIn(value.unit_cost, currency) }),
    ...(value.price === undefined ? {} : { price: amountIn(value.price, currency) }),
  };
};
