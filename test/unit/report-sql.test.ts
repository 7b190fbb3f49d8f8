import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { placeholdersOutsideWhere, scanSql, tenantPlaceholders, tenantRuleBreach, toPositional } from '../../functions/platform/lake';
import { toCsv } from '../../functions/platform/answers';
import { lakeTables } from '../../functions/wiring';

/**
 * The report SQL files keep the tenant rule by construction: every read of a lake table
 * is directly followed by its own `WHERE tenant_id = $tenant_id` (Athena's injected
 * projection is per table, and runLakeQuery binds every such predicate to the caller),
 * so every part of the query reads that one tenant's rows. And CSV answers are RFC 4180.
 */

const SQL_DIR = join(__dirname, '../../functions/reports/sql');
const files = readdirSync(SQL_DIR).filter((name) => name.endsWith('.sql'));
// Every lake table a report may read (functions/wiring.ts lakeTables: the feeds' and the close's rollups).
const LAKE_TABLES = lakeTables.map(({ table }) => table);

describe.each(files)('functions/reports/sql/%s', (file) => {
  const text = readFileSync(join(SQL_DIR, file), 'utf8');
  const { code } = scanSql(text);

  it('binds the tenant as its first parameter, only in tenant predicates, and keeps the rule after positional rewriting', () => {
    const named = scanSql(text).named.map((reference) => reference.name);
    expect(named[0]).toBe('tenant_id');
    const values = Object.fromEntries(named.map((name) => [name, null]));
    const positional = toPositional(text, values);
    expect(tenantRuleBreach(positional.sql)).toBeUndefined();
    expect(tenantPlaceholders(positional.sql)).toHaveLength(named.filter((name) => name === 'tenant_id').length);
  });

  it("puts every parameter in a WHERE clause, the only place Athena's execution parameters may stand", () => {
    const values = Object.fromEntries(scanSql(text).named.map((reference) => [reference.name, null]));
    expect(placeholdersOutsideWhere(toPositional(text, values).sql)).toEqual([]);
  });

  it('follows every read of a lake table directly by its own tenant predicate (Athena injects the projection per table)', () => {
    const reads = [...code.matchAll(/\b(?:FROM|JOIN)\s+([A-Za-z_."]+)/gi)].filter((match) => LAKE_TABLES.includes(match[1]?.replaceAll('"', '').toLowerCase().split('.').pop() ?? ''));
    expect(reads.length).toBeGreaterThan(0);
    for (const read of reads) {
      const after = code.slice((read.index ?? 0) + read[0].length);
      expect(after).toMatch(/^\s+WHERE\s+tenant_id\s*=\s*\$tenant_id\b/i);
    }
    const tenants = scanSql(text).named.filter((reference) => reference.name === 'tenant_id');
    expect(tenants).toHaveLength(reads.length);
  });
});

describe('placeholdersOutsideWhere', () => {
  it.each([
    ['SELECT a FROM t WHERE tenant_id = ? AND (? IS NULL OR b = ?)', 0],
    ['WITH x AS (SELECT a FROM t WHERE tenant_id = ?) SELECT a FROM x WHERE a IN (SELECT b FROM y) AND c = ?', 0],
    ['SELECT date_trunc(?, a) FROM t WHERE tenant_id = ?', 1],
    ['SELECT CASE WHEN a < ? THEN 1 END FROM t WHERE tenant_id = ?', 1],
    ['SELECT a FROM t WHERE tenant_id = ? GROUP BY a HAVING COUNT(*) > ?', 1],
    ['SELECT a FROM t WHERE tenant_id = ? ORDER BY a LIMIT ?', 1],
    ["SELECT '?' AS q FROM t WHERE tenant_id = ? -- a ? in a comment", 0],
  ])('%s has %i outside WHERE', (sql, count) => {
    expect(placeholdersOutsideWhere(sql)).toHaveLength(count);
  });
});

describe('toCsv', () => {
  const parse = (text: string): string[][] => {
    // A small RFC 4180 reader: quoted fields with doubled quotes, CRLF records.
    const records: string[][] = [];
    let record: string[] = [];
    let field = '';
    let quoted = false;
    for (let index = 0; index < text.length; index += 1) {
      const char = text[index];
      if (quoted) {
        if (char === '"' && text[index + 1] === '"') {
          field += '"';
          index += 1;
        } else if (char === '"') quoted = false;
        else field += char;
      } else if (char === '"') quoted = true;
      else if (char === ',') {
        record.push(field);
        field = '';
      } else if (char === '\r' && text[index + 1] === '\n') {
        record.push(field);
        records.push(record);
        record = [];
        field = '';
        index += 1;
      } else field += char;
    }
    return records;
  };

  it('writes a header and one record per row that a CSV reader gives back field for field, whatever the text holds', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string(), fc.integer(), fc.option(fc.string(), { nil: null })), { maxLength: 20 }), (tuples) => {
        const rows = tuples.map(([text, number, maybe]) => ({ text, number, maybe }));
        const records = parse(toCsv(['text', 'number', 'maybe'], rows));
        expect(records).toEqual([['text', 'number', 'maybe'], ...rows.map((row) => [row.text, String(row.number), row.maybe ?? ''])]);
      }),
    );
  });

  it('quotes a field with a comma, a quote or a line break, and only those', () => {
    expect(toCsv(['a', 'b', 'c', 'd'], [{ a: 'x,y', b: 'say "hi"', c: 'two\nlines', d: 'plain' }])).toBe('a,b,c,d\r\n"x,y","say ""hi""","two\nlines",plain\r\n');
  });
});
