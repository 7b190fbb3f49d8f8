import fc from 'fast-check';
import { AppError } from '../../functions/platform/errors';
import { childIdempotency, fingerprint } from '../../functions/platform/idempotency';
import { idSchema, isUlidTime } from '../../functions/platform/ids';
import { amountIn, currencySchema, minorUnitDigits, moneySchema, pricedIn } from '../../functions/platform/money';
import { decodeCursor, encodeCursor, queryDigest, unwrapCursor, wrapCursor } from '../../functions/platform/pagination';

describe('money', () => {
  test.each([
    [19.99, '19.99'],
    ['19.99', '19.99'],
    ['19.9900', '19.99'],
    [0, '0'],
    ['0.0001', '0.0001'],
    [123456789012345, '123456789012345'],
    ['100.10', '100.1'],
  ])('%p is stored exactly as %p', (input, stored) => {
    expect(moneySchema.parse(input)).toBe(stored);
  });

  test.each([[-1], ['-1'], [0.12345], ['1.23456'], ['1e3'], [1e21], ['abc'], [''], ['01.5'], [Number.NaN], ['1,50'], [true]])(
    '%p is rejected',
    (input) => {
      expect(moneySchema.safeParse(input).success).toBe(false);
    },
  );

  test('any decimal string with at most 4 decimals round-trips to the same value', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 19n - 1n }), (minorUnits) => {
        const text = `${minorUnits / 10000n}.${String(minorUnits % 10000n).padStart(4, '0')}`;
        const stored = moneySchema.parse(text);
        const [whole, fraction = ''] = stored.split('.');
        expect(BigInt(whole!) * 10000n + BigInt(fraction.padEnd(4, '0'))).toBe(minorUnits);
      }),
    );
  });
});

describe('money in its currency', () => {
  test.each([
    ['4.2', 'USD', '4.20'],
    ['4', 'EUR', '4.00'],
    ['0', 'USD', '0.00'],
    ['4.1234', 'USD', '4.1234'],
    ['4.2000', 'USD', '4.20'],
    ['400', 'JPY', '400'],
    ['400.50', 'JPY', '400.5'],
    ['1.5', 'BHD', '1.500'],
  ])('%p %s is written %p', (amount, currency, written) => {
    expect(amountIn(amount, currency)).toBe(written);
  });

  test('the minor units come from ICU: two for USD and EUR, none for JPY', () => {
    expect([minorUnitDigits('USD'), minorUnitDigits('EUR'), minorUnitDigits('JPY')]).toEqual([2, 2, 0]);
  });

  test('an amount written in any known currency keeps its exact value, its minor-unit digits and at most 4 decimals', () => {
    const currencies = Intl.supportedValuesOf('currency');
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 19n - 1n }), fc.constantFrom(...currencies), (tenThousandths, currency) => {
        const given = moneySchema.parse(`${tenThousandths / 10000n}.${String(tenThousandths % 10000n).padStart(4, '0')}`);
        const written = amountIn(given, currency);
        const [whole = '', fraction = ''] = written.split('.');
        expect(BigInt(whole) * 10000n + BigInt(fraction.padEnd(4, '0'))).toBe(tenThousandths);
        expect(fraction.length).toBeGreaterThanOrEqual(minorUnitDigits(currency));
        expect(fraction.length).toBeLessThanOrEqual(Math.max(4, minorUnitDigits(currency)));
        expect(moneySchema.parse(written)).toBe(given);
      }),
    );
  });

  test('unit_cost and price follow the record\'s currency; without one they stay as given', () => {
    expect(pricedIn({ unit_cost: '1', price: '2.5', currency: 'USD', name: 'x' })).toEqual({ unit_cost: '1.00', price: '2.50', currency: 'USD', name: 'x' });
    expect(pricedIn({ price: '2.5' })).toEqual({ price: '2.5' });
  });

  test.each(['USD', 'EUR', 'JPY', 'GBP'])('%s is a currency', (code) => {
    expect(currencySchema.safeParse(code).success).toBe(true);
  });
  test.each(['XYZ', 'ABC', 'usd', 'US', 'USDX', ''])('%p is refused as a currency', (code) => {
    expect(currencySchema.safeParse(code).success).toBe(false);
  });
});

describe('ids', () => {
  test.each(['sku-1', 'A', 'prod_2.red', '01HNZX8JGFACFA36RBXDHEQN6E', 'x'.repeat(64)])('%p is a safe id', (id) => {
    expect(idSchema.safeParse(id).success).toBe(true);
  });
  test.each(['', 'a#b', 'T#other', '-lead', 'a b', 'ä', 'a/b', 'x'.repeat(65), '../etc'])('%p is refused', (id) => {
    expect(idSchema.safeParse(id).success).toBe(false);
  });
});

describe('instants a ULID can carry', () => {
  test('from the epoch to 10889-08-02T05:31:50.655Z, and nothing outside', () => {
    expect(isUlidTime(0)).toBe(true);
    expect(isUlidTime(Date.parse('+010889-08-02T05:31:50.655Z'))).toBe(true);
    expect(isUlidTime(Date.parse('+010889-08-02T05:31:50.656Z'))).toBe(false);
    expect(isUlidTime(-1)).toBe(false);
    expect(isUlidTime(Number.NaN)).toBe(false);
  });
});

describe('idempotency fingerprints', () => {
  test('key order and whitespace do not change a fingerprint', () => {
    expect(fingerprint('POST /x', { a: 1, b: { c: 2, d: [1, 2] } })).toBe(fingerprint('POST /x', { b: { d: [1, 2], c: 2 }, a: 1 }));
  });
  test('a different body or route changes the fingerprint', () => {
    expect(fingerprint('POST /x', { a: 1 })).not.toBe(fingerprint('POST /x', { a: 2 }));
    expect(fingerprint('POST /x', { a: 1 })).not.toBe(fingerprint('POST /y', { a: 1 }));
  });
  test('each item of a batch gets its own key derived from the request key', () => {
    const parent = { key: 'k1', fingerprint: 'f' };
    expect(childIdempotency(parent, 3, { q: 1 })?.key).toBe('k1:3');
    expect(childIdempotency(undefined, 3, { q: 1 })).toBeUndefined();
  });
});

describe('cursors', () => {
  const digest = queryDigest({ partition: 'T#a#SKU' });
  const scope = { partition: 'T#a#SKU', digest };
  const indexScope = { index: 'gsi1' as const, partition: 'T#a#PRODUCT#p#SKUS', digest };
  const raw = (payload: unknown): string => Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
  const refusal = (run: () => unknown): unknown => {
    try {
      run();
    } catch (error) {
      return error instanceof AppError ? { code: error.code, details: error.details } : error;
    }
    return 'accepted';
  };
  const refusedOnCursor = { code: 'VALIDATION_FAILED', details: { fields: [expect.objectContaining({ in: 'query', path: 'cursor' })] } };

  test('a cursor decodes back to the key it was made from', () => {
    const key = { pk: 'T#a#SKU', sk: 'sku-9' };
    expect(decodeCursor(encodeCursor(key, digest) ?? undefined, scope)).toEqual(key);
  });

  test('an index cursor carries the index key and the table key', () => {
    const key = { gsi1pk: 'T#a#PRODUCT#p#SKUS', gsi1sk: 'sku-9', pk: 'T#a#SKU', sk: 'sku-9' };
    expect(decodeCursor(encodeCursor(key, digest) ?? undefined, indexScope)).toEqual(key);
  });

  test('a cursor for another partition (another tenant) is refused with 400', () => {
    const foreign = encodeCursor({ pk: 'T#b#SKU', sk: 'x' }, digest) ?? '';
    expect(refusal(() => decodeCursor(foreign, scope))).toEqual(refusedOnCursor);
  });

  test.each<[string, Record<string, unknown>, typeof scope | typeof indexScope]>([
    ['an empty sort key', { pk: 'T#a#SKU', sk: '' }, scope],
    ['only a partition key', { pk: 'T#a#SKU' }, scope],
    ['an extra attribute', { pk: 'T#a#SKU', sk: 'x', note: 'y' }, scope],
    ['a numeric sort key', { pk: 'T#a#SKU', sk: 1 }, scope],
    ['a map as the sort key', { pk: 'T#a#SKU', sk: { S: 'x' } }, scope],
    ['a sort key over 1024 bytes', { pk: 'T#a#SKU', sk: 'é'.repeat(513) }, scope],
    ['the tenant prefix of another partition', { pk: 'T#a#SKUS', sk: 'x' }, scope],
    ['a table key on an index read', { pk: 'T#a#SKU', sk: 'x' }, indexScope],
    ['an index cursor without the table pk', { gsi1pk: 'T#a#PRODUCT#p#SKUS', gsi1sk: 'x', sk: 'x' }, indexScope],
    ['an index cursor without gsi1pk', { gsi1sk: 'x', pk: 'T#a#SKU', sk: 'x' }, indexScope],
    ['an index cursor positioned by another tenant\'s item', { gsi1pk: 'T#a#PRODUCT#p#SKUS', gsi1sk: 'x', pk: 'T#b#SKU', sk: 'x' }, indexScope],
  ])('a cursor with %s is refused with 400 on query.cursor', (_name, key, against) => {
    expect(refusal(() => decodeCursor(raw({ k: key, q: digest }), against))).toEqual(refusedOnCursor);
  });

  test('a sort key outside the query range is refused, at either end and below an exclusive bound', () => {
    const ranged = { ...scope, sort: { between: ['b', 'd'] as [string, string] } };
    expect(decodeCursor(raw({ k: { pk: 'T#a#SKU', sk: 'b' }, q: digest }), ranged)).toEqual({ pk: 'T#a#SKU', sk: 'b' });
    expect(decodeCursor(raw({ k: { pk: 'T#a#SKU', sk: 'd' }, q: digest }), ranged)).toEqual({ pk: 'T#a#SKU', sk: 'd' });
    expect(refusal(() => decodeCursor(raw({ k: { pk: 'T#a#SKU', sk: 'a' }, q: digest }), ranged))).toEqual(refusedOnCursor);
    expect(refusal(() => decodeCursor(raw({ k: { pk: 'T#a#SKU', sk: 'da' }, q: digest }), ranged))).toEqual(refusedOnCursor);
    const below = { ...scope, sort: { below: 'm' } };
    expect(refusal(() => decodeCursor(raw({ k: { pk: 'T#a#SKU', sk: 'm' }, q: digest }), below))).toEqual(refusedOnCursor);
  });

  test('sort ranges compare by UTF-8 bytes, as DynamoDB does, not by UTF-16 units', () => {
    // U+FF5E sorts below U+1F600 in UTF-8 but above it in UTF-16.
    const ranged = { ...scope, sort: { between: ['\u{FF5E}', '\u{1F600}'] as [string, string] } };
    expect(decodeCursor(raw({ k: { pk: 'T#a#SKU', sk: '\u{FFFD}' }, q: digest }), ranged)).toEqual({ pk: 'T#a#SKU', sk: '\u{FFFD}' });
  });

  test('a cursor of another query (other digest) is refused with 400', () => {
    const other = encodeCursor({ pk: 'T#a#SKU', sk: 'x' }, queryDigest({ partition: 'T#a#SKU', filter: 'other' })) ?? '';
    expect(refusal(() => decodeCursor(other, scope))).toEqual(refusedOnCursor);
  });

  test('a bare key (the old cursor format) is refused with 400', () => {
    expect(refusal(() => decodeCursor(raw({ pk: 'T#a#SKU', sk: 'x' }), scope))).toEqual(refusedOnCursor);
  });

  test('a wrapped cursor gives back the inner cursor to the list query it was made for, and none for the last page', () => {
    const inner = encodeCursor({ pk: 'T#a#SKU', sk: 'sku-9' }, digest) ?? '';
    const outer = queryDigest({ list: 'levels', status: 'stock_out' });
    expect(unwrapCursor(wrapCursor(inner, outer) ?? undefined, outer)).toBe(inner);
    expect(wrapCursor(null, outer)).toBeNull();
    expect(unwrapCursor(undefined, outer)).toBeUndefined();
  });

  test('a wrapped cursor of other filters, a plain cursor, or a tampered one is refused with 400 on query.cursor', () => {
    const inner = encodeCursor({ pk: 'T#a#SKU', sk: 'sku-9' }, digest) ?? '';
    const outer = queryDigest({ list: 'levels', status: 'all' });
    const otherFilters = wrapCursor(inner, queryDigest({ list: 'levels', status: 'stock_out' })) ?? '';
    for (const cursor of [otherFilters, inner, raw({ c: inner }), raw({ c: '', q: outer }), raw({ c: inner, q: outer, x: 1 }), '%%%']) {
      expect(refusal(() => unwrapCursor(cursor, outer))).toEqual(refusedOnCursor);
    }
    // The inner cursor is the platform's: a wrapped key the list query cannot resume from is refused when followed.
    const forged = unwrapCursor(wrapCursor(encodeCursor({ pk: 'T#b#SKU', sk: 'x' }, digest), outer) ?? undefined, outer);
    expect(refusal(() => decodeCursor(forged, scope))).toEqual(refusedOnCursor);
  });

  test('garbage is refused with 400, not a crash', () => {
    for (const junk of ['%%%', 'bnVsbA', raw([1]), raw({ pk: 1 }), raw({ k: null, q: digest }), raw({ k: {}, q: 1 })]) {
      expect(refusal(() => decodeCursor(junk, scope))).toEqual(refusedOnCursor);
    }
  });

  test('any string is refused with the 400 on query.cursor or decodes to a key of the query partition, never another error', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string().map((text) => Buffer.from(text).toString('base64url'))), (cursor) => {
        const outcome = refusal(() => decodeCursor(cursor, scope));
        if (outcome === 'accepted') expect(decodeCursor(cursor, scope)?.pk).toBe('T#a#SKU');
        else expect(outcome).toEqual(refusedOnCursor);
      }),
    );
  });

  test('the query digest ignores key order but not values', () => {
    expect(queryDigest({ a: 1, b: { c: [1, 2] } })).toBe(queryDigest({ b: { c: [1, 2] }, a: 1 }));
    expect(queryDigest({ a: 1 })).not.toBe(queryDigest({ a: 2 }));
  });
});
