import fc from 'fast-check';
import { formatDays, formatDelta, formatInstant, formatMoney, formatQuantity, humanize } from '../../web/src/format';
import { ApiProblem, fieldMessages, formMessages, newIdempotencyKey, parseQuantity, problemOf } from '../../web/src/forms';

describe('the dashboard formats numbers without losing or inventing any', () => {
  test('quantities get thousands separators and a missing one is a dash, never "undefined" or "NaN"', () => {
    expect(formatQuantity(1234567)).toBe('1,234,567');
    expect(formatQuantity(0)).toBe('0');
    expect(formatQuantity(-12)).toBe('-12');
    expect(formatQuantity(null)).toBe('—');
    expect(formatQuantity(undefined)).toBe('—');
    expect(formatQuantity(Number.NaN)).toBe('—');
  });

  test('a change is signed with a true minus sign', () => {
    expect(formatDelta(5)).toBe('+5');
    expect(formatDelta(-3000)).toBe('−3,000');
    expect(formatDelta(0)).toBe('0');
  });

  test('money is formatted from its decimal string exactly, also past what a double holds', () => {
    expect(formatMoney('1234.5', 'USD')).toBe('$1,234.50');
    expect(formatMoney('0.1', 'EUR')).toBe('€0.10');
    // 2^53 + 1 cents: a float would round it.
    expect(formatMoney('90071992547409.93', 'USD')).toBe('$90,071,992,547,409.93');
    expect(formatMoney('-2.005', 'USD')).toBe('-$2.01');
  });

  test('anything that is not a decimal amount is a dash, and an unknown currency code falls back rather than throwing', () => {
    for (const bad of [undefined, null, '', 'abc', '1e5', '1,000', ' 1']) expect(formatMoney(bad, 'USD')).toBe('—');
    expect(formatMoney('3', 'usd')).toBe('$3.00');
    expect(formatMoney('3', null)).toBe('$3.00');
  });

  test('every integer quantity formats back to itself once the separators are removed', () => {
    fc.assert(fc.property(fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }), (n) => Number(formatQuantity(n).replace(/,/g, '')) === n));
  });

  test('days of cover, instants and labels read as words', () => {
    expect(formatDays(3.14159)).toBe('3.1 d');
    expect(formatDays(null)).toBe('—');
    expect(formatInstant('not a date')).toBe('—');
    expect(formatInstant(null)).toBe('—');
    expect(formatInstant('2026-03-04T05:06:07Z')).toMatch(/2026/);
    expect(humanize('below_reorder_point')).toBe('Below reorder point');
    expect(humanize('allocateOrder')).toBe('Allocate order');
  });
});

describe('the dashboard reads what people type as whole quantities', () => {
  test('separators and spaces are fine; fractions, words, blanks and huge numbers are refused with a reason', () => {
    expect(parseQuantity(' 1,200 ')).toEqual({ value: 1200 });
    expect(parseQuantity('7')).toEqual({ value: 7 });
    expect(parseQuantity('1.5')).toEqual({ error: 'must be a whole number of units' });
    expect(parseQuantity('abc')).toEqual({ error: 'must be a whole number of units' });
    expect(parseQuantity('')).toEqual({ error: 'enter a number' });
    expect(parseQuantity('0')).toEqual({ error: 'must be at least 1' });
    expect(parseQuantity('99999999999999999999')).toEqual({ error: 'must be at most 1,000,000,000' });
    expect(parseQuantity('-3', { min: -10 })).toEqual({ value: -3 });
    expect(parseQuantity('0', { min: 0 })).toEqual({ value: 0 });
  });

  test('a parsed quantity is always a safe integer within the bounds asked for', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: -5, max: 5 }), (text, min) => {
        const parsed = parseQuantity(text, { min, max: 1000 });
        return 'error' in parsed || (Number.isSafeInteger(parsed.value) && parsed.value >= min && parsed.value <= 1000);
      }),
    );
  });

  test('each submit gets its own Idempotency-Key in the API\'s allowed form', () => {
    const keys = new Set(Array.from({ length: 100 }, newIdempotencyKey));
    expect(keys.size).toBe(100);
    for (const key of keys) expect(key).toMatch(/^[A-Za-z0-9_.:-]{1,128}$/);
  });
});

describe('the dashboard places the API\'s errors next to the inputs they are about', () => {
  const body = {
    error: {
      code: 'VALIDATION_FAILED',
      message: 'the request is invalid',
      details: { fields: [{ in: 'body', path: 'reason', message: 'is required for an adjustment' }, { in: 'body', path: 'lines.0.quantity', message: 'must be positive' }, { in: 'query', path: 'cursor', message: 'tampered' }] },
    },
  };

  test('the one error shape becomes a problem with its code, words and fields', () => {
    const problem = problemOf(400, body);
    expect(problem).toBeInstanceOf(ApiProblem);
    expect(problem).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', message: 'the request is invalid' });
    expect(problem.fields).toHaveLength(3);
  });

  test('each field message goes to the input of its path (or its parent), and the rest stay in the banner', () => {
    const problem = problemOf(400, body);
    expect(fieldMessages(problem, ['reason', 'lines', 'quantity'])).toEqual({ reason: 'is required for an adjustment', lines: 'must be positive' });
    expect(formMessages(problem, ['reason', 'lines'])).toEqual(['cursor: tampered']);
  });

  test('an answer that is not the error shape still reads as words, never as "undefined"', () => {
    for (const [status, junk] of [[500, 'oops'], [403, null], [503, { error: 'x' }], [401, undefined], [418, { error: { code: 5 } }]] as const) {
      const problem = problemOf(status, junk);
      expect(problem.message).not.toMatch(/undefined|\[object/);
      expect(problem.message.length).toBeGreaterThan(5);
      expect(problem.fields).toEqual([]);
    }
  });
});

describe('the dashboard signs in to the hosted UI with PKCE', () => {
  test('the S256 challenge of a verifier is RFC 7636\'s own example', async () => {
    const { challengeOf } = await import('../../web/src/pkce');
    await expect(challengeOf('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).resolves.toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  test('a verifier is 43 base64url characters and never repeats', async () => {
    const { randomText } = await import('../../web/src/pkce');
    const verifiers = new Set(Array.from({ length: 50 }, () => randomText()));
    expect(verifiers.size).toBe(50);
    for (const v of verifiers) expect(v).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('the dashboard asks the reports for windows that include today', () => {
  test('the last 30 days are 30 calendar days ending today, with the exclusive end tomorrow', async () => {
    const { lastDays } = await import('../../web/src/dates');
    expect(lastDays(30, new Date('2026-12-02T23:59:00Z'))).toEqual({ from: '2026-11-03', to: '2026-12-03' });
    expect(lastDays(1, new Date('2026-01-01T00:00:00Z'))).toEqual({ from: '2026-01-01', to: '2026-01-02' });
  });

  test('a daily chart has every day of its window, from inclusive and to exclusive, across a month and a leap day', async () => {
    const { daysIn, lastDays } = await import('../../web/src/dates');
    expect(daysIn({ from: '2028-02-27', to: '2028-03-02' })).toEqual(['2028-02-27', '2028-02-28', '2028-02-29', '2028-03-01']);
    const month = daysIn(lastDays(30, new Date('2026-12-02T10:00:00Z')));
    expect(month).toHaveLength(30);
    expect([month[0], month.at(-1)]).toEqual(['2026-11-03', '2026-12-02']);
    expect(daysIn({ from: '2026-12-02', to: '2026-12-02' })).toEqual([]);
  });
});
