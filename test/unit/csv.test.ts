import fc from 'fast-check';
import { toCsv } from '../../functions/platform/answers';
import { CsvSyntaxError, parseCsv } from '../../functions/platform/csv';

/** RFC 4180 request bodies (functions/platform/csv.ts), rule by rule, and against the writer the CSV answers use. */
const fields = (text: string) => parseCsv(text).map((record) => record.fields);

describe('parseCsv', () => {
  test('records split on CRLF, LF or CR; the last line break is optional', () => {
    expect(fields('a,b\r\n1,2\r\n')).toEqual([['a', 'b'], ['1', '2']]);
    expect(fields('a,b\n1,2')).toEqual([['a', 'b'], ['1', '2']]);
    expect(fields('a,b\r1,2\r')).toEqual([['a', 'b'], ['1', '2']]);
  });

  test('quoted fields hold commas, doubled quotes and line breaks as text', () => {
    expect(fields('"a,b","say ""hi""","two\r\nlines"\r\nx,"",y')).toEqual([['a,b', 'say "hi"', 'two\r\nlines'], ['x', '', 'y']]);
  });

  test('spaces are part of a field, empty fields are kept, empty lines are skipped, a leading BOM is dropped', () => {
    expect(fields('\ufeff a , b ,\r\n\r\n\n,,\r\n')).toEqual([[' a ', ' b ', ''], ['', '', '']]);
    expect(fields('')).toEqual([]);
    expect(fields('\r\n\r\n')).toEqual([]);
    // A line holding only an empty quoted field is a record, not an empty line.
    expect(fields('""\n')).toEqual([['']]);
  });

  test('each record says the line it starts on, counting the lines inside quoted fields', () => {
    expect(parseCsv('h\n"a\nb"\n\nc\r\nd').map((record) => record.line)).toEqual([1, 2, 5, 6]);
  });

  test.each([
    ['a quote inside an unquoted field', 'a,b"c\n', 1, /quote inside an unquoted field/],
    ['text after a closing quote', 'h\n"a"b,c\n', 2, /after a closing quote/],
    ['a quoted field never closed', 'h\n"abc\n', 2, /never closed/],
  ])('%s is a CsvSyntaxError naming the line', (_what, text, line, message) => {
    let thrown: unknown;
    try {
      parseCsv(text);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CsvSyntaxError);
    expect(thrown).toMatchObject({ line });
    expect((thrown as Error).message).toMatch(message);
  });

  test('reads back whatever toCsv writes (property: any text in any field)', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'z', ' ', ',', '"', '\r', '\n', 'é', '1') });
    fc.assert(
      fc.property(fc.array(fc.tuple(text, text, text), { minLength: 1, maxLength: 8 }), (rows) => {
        const written = toCsv(['x', 'y', 'z'], rows.map(([x, y, z]) => ({ x, y, z })));
        // toCsv leaves an all-empty row as ",,": a record of three empty fields, never an empty line.
        expect(fields(written)).toEqual([['x', 'y', 'z'], ...rows]);
      }),
      { numRuns: 300 },
    );
  });
});
