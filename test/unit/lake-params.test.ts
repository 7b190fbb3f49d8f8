import fc from 'fast-check';
import { decodeValue, executionParameters, LakeQueryError, scanSql, sqlLiteral, tenantPlaceholders, tenantRuleBreach, toPositional } from '../../functions/platform/lake';

/** The Athena side of lake queries that needs no engine: ExecutionParameters literals, placeholders, the tenant rule, cell decoding. */

/** Reads a literal back the way Trino and DuckDB read a quoted string: between the outer quotes, '' is one '. */
const unquote = (literal: string): string | undefined => {
  const match = /^'((?:[^']|'')*)'$/s.exec(literal);
  return match ? (match[1] ?? '').replaceAll("''", "'") : undefined;
};

describe('sqlLiteral (ExecutionParameters are SQL literals)', () => {
  it('quotes strings and doubles every quote inside', () => {
    expect(sqlLiteral('sku-1')).toBe("'sku-1'");
    expect(sqlLiteral("it's")).toBe("'it''s'");
    expect(sqlLiteral("x' OR '1'='1")).toBe("'x'' OR ''1''=''1'");
    expect(sqlLiteral('')).toBe("''");
    expect(sqlLiteral("'); DROP TABLE t; --")).toBe("'''); DROP TABLE t; --'");
  });

  it('makes any string one literal that reads back as the same string (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("'", '"', '\\', ';', '-', ' ', '?', '$', '\n', 'a', 'é', '😀') }), (value) => {
        expect(unquote(sqlLiteral(value))).toBe(value);
      }),
    );
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }).filter((value) => !value.includes('\u0000')), (value) => {
        expect(unquote(sqlLiteral(value))).toBe(value);
      }),
    );
  });

  it('writes numbers, bigints, booleans and null as they are', () => {
    expect(sqlLiteral(42)).toBe('42');
    expect(sqlLiteral(-7)).toBe('-7');
    expect(sqlLiteral(-0)).toBe('0');
    expect(sqlLiteral(0.25)).toBe('0.25');
    expect(sqlLiteral(12345678901234567890n)).toBe('12345678901234567890');
    expect(sqlLiteral(true)).toBe('TRUE');
    expect(sqlLiteral(false)).toBe('FALSE');
    expect(sqlLiteral(null)).toBe('NULL');
  });

  it('refuses what has no exact literal: NaN, infinities, unsafe integers as numbers, NUL', () => {
    expect(() => sqlLiteral(Number.NaN)).toThrow(TypeError);
    expect(() => sqlLiteral(Number.POSITIVE_INFINITY)).toThrow(TypeError);
    expect(() => sqlLiteral(2 ** 53 + 2)).toThrow(/bigint/);
    expect(() => sqlLiteral('a\u0000b')).toThrow(/NUL/);
  });
});

describe('placeholders and the tenant rule', () => {
  it('finds ? and $name outside strings, quoted identifiers and comments', () => {
    const sql = "SELECT '?', \"a?\" , $x -- ? $y\n/* ? $z */ FROM t WHERE a = ? AND b = 'it''s ?'";
    const scanned = scanSql(sql);
    expect(scanned.placeholders).toEqual([sql.indexOf('a = ?') + 4]);
    expect(scanned.named.map((each) => each.name)).toEqual(['x']);
    expect(() => scanSql("SELECT 'open")).toThrow(/unterminated/);
    expect(() => scanSql('SELECT $$x$$')).toThrow(/dollar/);
  });

  it('accepts a query whose first placeholder is tenant_id = ?, and names every other shape', () => {
    expect(tenantRuleBreach('SELECT * FROM movements WHERE tenant_id = ? AND sku_id = ?')).toBeUndefined();
    expect(tenantRuleBreach('SELECT * FROM movements m WHERE m.tenant_id=?')).toBeUndefined();
    expect(tenantRuleBreach('SELECT * FROM movements WHERE tenant_id /* the tenant */ = ?')).toBeUndefined();
    expect(tenantRuleBreach('SELECT * FROM movements')).toMatch(/tenant/);
    expect(tenantRuleBreach("SELECT * FROM movements WHERE tenant_id = 'a'")).toMatch(/tenant/);
    expect(tenantRuleBreach('SELECT * FROM movements WHERE sku_id = ? AND tenant_id = ?')).toMatch(/first parameter/);
    expect(tenantRuleBreach('SELECT * FROM movements WHERE not_tenant_id = ?')).toMatch(/first parameter/);
    expect(tenantRuleBreach("SELECT * FROM movements WHERE x = 'tenant_id = ' AND y = ?")).toMatch(/first parameter/);
    expect(tenantRuleBreach('SELECT * FROM movements WHERE tenant_id = $tenant_id')).toMatch(/positional/);
  });

  it('turns $name SQL into positional SQL, repeating values in order and binding the tenant apart', () => {
    expect(() => toPositional('SELECT $grain FROM m WHERE tenant_id = $tenant_id', { grain: 'g' })).toThrow(/first parameter/);
    const ok = toPositional("SELECT '$no' FROM m WHERE tenant_id = $tenant_id AND a = $from AND b < $from AND c = $grain -- $x", { from: 'f', grain: 'g' });
    expect(ok).toEqual({ sql: "SELECT '$no' FROM m WHERE tenant_id = ? AND a = ? AND b < ? AND c = ? -- $x", parameters: ['f', 'f', 'g'] });
    expect(tenantRuleBreach(ok.sql)).toBeUndefined();
    expect(() => toPositional('SELECT 1 FROM m WHERE tenant_id = $tenant_id AND a = $from', {})).toThrow(/\$from has no value/);
  });

  it('takes $tenant_id once per lake table read, each in a tenant predicate, and leaves every one of them to the tenant binding', () => {
    const two = toPositional('SELECT 1 FROM (SELECT a FROM m WHERE tenant_id = $tenant_id AND a = $from) x JOIN (SELECT a FROM o WHERE o.tenant_id = $tenant_id AND b < $to) y ON x.a = y.a', { from: 'f', to: 't' });
    expect(two.parameters).toEqual(['f', 't']);
    expect(tenantPlaceholders(two.sql)).toEqual([0, 2]);
    expect(executionParameters(two.sql, 'tenant-a', two.parameters)).toEqual(["'tenant-a'", "'f'", "'tenant-a'", "'t'"]);
    // The caller's values can never land on a tenant placeholder: the count must leave them out.
    expect(() => executionParameters(two.sql, 'tenant-a', ['tenant-b', 'f', 't'])).toThrow(/besides the tenant/);
    expect(() => toPositional('SELECT 1 FROM m WHERE tenant_id = $tenant_id AND x = $tenant_id', {})).toThrow(/only in tenant predicates/);
    expect(() => toPositional('SELECT 1 FROM m WHERE tenant_id = $tenant_id OR tenant_id = $sku_id', { sku_id: 's' })).toThrow(/not \$sku_id/);
  });
});

describe('decodeValue (by the result-set metadata)', () => {
  const column = (type: string) => ({ name: 'c', type });
  it('reads each Athena type into its JS type, and a missing VarCharValue as null', () => {
    expect(decodeValue('abc', column('varchar'))).toBe('abc');
    expect(decodeValue('', column('varchar'))).toBe('');
    expect(decodeValue('-12', column('integer'))).toBe(-12);
    expect(decodeValue('9007199254740993', column('bigint'))).toBe(9_007_199_254_740_993n);
    expect(decodeValue('0.1', column('double'))).toBe(0.1);
    expect(decodeValue('1.0E21', column('double'))).toBe(1e21);
    expect(decodeValue('123456789012345.6789', column('decimal'))).toBe('123456789012345.6789');
    expect(decodeValue('2024-02-29', column('date'))).toBe('2024-02-29');
    expect(decodeValue('2024-03-10 23:59:59.999', column('timestamp'))).toBe('2024-03-10T23:59:59.999Z');
    expect(decodeValue('2024-03-10 23:59:59.123456', column('timestamp(6)'))).toBe('2024-03-10T23:59:59.123Z');
    expect(decodeValue('2024-03-10 23:59:59', column('timestamp'))).toBe('2024-03-10T23:59:59.000Z');
    expect(decodeValue('true', column('boolean'))).toBe(true);
    expect(decodeValue('false', column('boolean'))).toBe(false);
    for (const type of ['varchar', 'bigint', 'decimal', 'date', 'timestamp', 'boolean']) expect(decodeValue(undefined, column(type))).toBeNull();
  });

  it('refuses a cell that is not of its column type, and a type it does not know, with a LakeQueryError', () => {
    expect(() => decodeValue('1.5', column('bigint'))).toThrow(LakeQueryError);
    expect(() => decodeValue('12,5', column('decimal'))).toThrow(LakeQueryError);
    expect(() => decodeValue('yes', column('boolean'))).toThrow(LakeQueryError);
    expect(() => decodeValue('2024-13-45 99:00:00', column('timestamp'))).toThrow(LakeQueryError);
    expect(() => decodeValue('[1, 2]', column('array(integer)'))).toThrow(LakeQueryError);
  });
});
