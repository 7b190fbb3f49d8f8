import fc from 'fast-check';
import { AppError } from '../../functions/platform/errors';
import { childIdempotency, fingerprint } from '../../functions/platform/idempotency';
import { idSchema } from '../../functions/platform/ids';
import { moneySchema } from '../../functions/platform/money';
import { decodeCursor, encodeCursor } from '../../functions/platform/pagination';

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

describe('ids', () => {
  test.each(['sku-1', 'A', 'prod_2.red', '01HNZX8JGFACFA36RBXDHEQN6E', 'x'.repeat(64)])('%p is a safe id', (id) => {
    expect(idSchema.safeParse(id).success).toBe(true);
  });
  test.each(['', 'a#b', 'T#other', '-lead', 'a b', 'ä', 'a/b', 'x'.repeat(65), '../etc'])('%p is refused', (id) => {
    expect(idSchema.safeParse(id).success).toBe(false);
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
  const partition = { attribute: 'pk', value: 'T#a#SKU' };
  test('a cursor decodes back to the key it was made from', () => {
    const key = { pk: 'T#a#SKU', sk: 'sku-9' };
    expect(decodeCursor(encodeCursor(key) ?? undefined, partition)).toEqual(key);
  });
  test('a cursor for another partition (another tenant) is refused with 400', () => {
    const foreign = encodeCursor({ pk: 'T#b#SKU', sk: 'x' }) ?? '';
    expect(() => decodeCursor(foreign, partition)).toThrow(AppError);
  });
  test('garbage is refused with 400, not a crash', () => {
    for (const junk of ['%%%', 'bnVsbA', Buffer.from('[1]').toString('base64url'), Buffer.from('{"pk":1}').toString('base64url')]) {
      expect(() => decodeCursor(junk, partition)).toThrow(AppError);
    }
  });
});
