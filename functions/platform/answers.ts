/**
 * Answers a domain function gives besides its plain result, which the HTTP layer
 * (functions/platform/http.ts) turns into their status. Kept apart from http.ts so
 * that domain code names an outcome without knowing about HTTP.
 */

/**
 * Work accepted but not finished (202): a report whose lake query still runs. The body
 * says how to follow it up; `location` is where its result will be.
 */
export class Accepted<Body> {
  constructor(
    readonly body: Body,
    readonly location?: string,
  ) {}
}

export const accepted = <Body>(body: Body, location?: string): Accepted<Body> => new Accepted(body, location);

/**
 * Rows as RFC 4180 CSV: a header line of `columns`, then one line per row, CRLF line ends.
 * A field holding a comma, a quote, CR or LF is quoted and its quotes doubled; null and
 * undefined are empty fields; everything else is written as String() writes it.
 */
export const toCsv = (columns: readonly string[], rows: readonly Record<string, unknown>[]): string => {
  const field = (value: unknown): string => {
    if (value === null || value === undefined) return '';
    const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return [columns.join(','), ...rows.map((row) => columns.map((column) => field(row[column])).join(','))].join('\r\n') + '\r\n';
};
