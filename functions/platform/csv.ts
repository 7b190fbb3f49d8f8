/**
 * Reading CSV request bodies (RFC 4180), the counterpart of answers.ts `toCsv`: fields separated
 * by commas, records by CRLF (a lone LF or CR is taken too, as spreadsheets and Unix tools write
 * them); a field may be enclosed in double quotes, inside which commas, quotes (doubled: `""`)
 * and line breaks are text. Written here rather than taken from a package: the grammar is a
 * few rules, and these are tested one by one (test/unit/csv.test.ts).
 *
 * What is refused, as a CsvSyntaxError naming the line: a quote inside an unquoted field, text
 * after a field's closing quote, and a quoted field never closed. A leading UTF-8 byte order
 * mark (what spreadsheet exports start with) is dropped. Empty lines (nothing between two line
 * breaks) are skipped, a final line break or none alike. Fields are never trimmed: spaces are
 * part of a field (RFC 4180, section 2.4).
 */
export interface CsvRecord {
  /** The line the record starts on, 1-based (a quoted field may span lines). */
  line: number;
  fields: string[];
}

export class CsvSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'CsvSyntaxError';
  }
}

export const parseCsv = (text: string): CsvRecord[] => {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  /** The current field was quoted and its closing quote seen: only a separator or a line break may follow. */
  let closed = false;
  let inQuotes = false;
  let line = 1;
  let recordLine = 1;
  /** Where the open quoted field began (an unclosed one is reported there). */
  let quoteLine = 1;
  const endField = (): void => {
    fields.push(field);
    field = '';
    closed = false;
  };
  const endRecord = (): void => {
    // An empty line: no field, no quotes, nothing before the break.
    if (fields.length === 0 && field === '' && !closed) return;
    endField();
    records.push({ line: recordLine, fields });
    fields = [];
  };
  let at = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (at < text.length) {
    const char = text[at];
    if (inQuotes) {
      if (char === '"') {
        if (text[at + 1] === '"') {
          field += '"';
          at += 2;
          continue;
        }
        inQuotes = false;
        closed = true;
      } else {
        if (char === '\n' || (char === '\r' && text[at + 1] !== '\n')) line += 1;
        field += char;
      }
      at += 1;
      continue;
    }
    if (char === ',') {
      endField();
      at += 1;
    } else if (char === '\r' || char === '\n') {
      endRecord();
      at += char === '\r' && text[at + 1] === '\n' ? 2 : 1;
      line += 1;
      recordLine = line;
    } else if (closed) {
      throw new CsvSyntaxError('text after a closing quote: a quoted field ends at a comma or a line break', line);
    } else if (char === '"') {
      if (field !== '') throw new CsvSyntaxError('a quote inside an unquoted field: quote the whole field and double the quotes in it', line);
      inQuotes = true;
      quoteLine = line;
      at += 1;
    } else {
      field += char;
      at += 1;
    }
  }
  if (inQuotes) throw new CsvSyntaxError('a quoted field opened here is never closed', quoteLine);
  endRecord();
  return records;
};
