import { parquetMetadata, parquetReadObjects, type FileMetaData, type SchemaElement } from 'hyparquet';
import { parquetWriteBuffer, type ColumnSource } from 'hyparquet-writer';

/**
 * Parquet in and out of the lake's objects, in plain JavaScript (hyparquet and
 * hyparquet-writer: no native code, so a Lambda bundle carries it for ~100 KB):
 * the daily close reads a day's movement files and writes its rollup with it
 * (functions/reports/close.ts), the same bytes in AWS (S3) and locally (the
 * S3 stand-in over .data/lake/).
 *
 * Cells are exact, whatever wrote the file (DuckDB locally: zstd, TIMESTAMP as
 * micros, DECIMAL as fixed-length bytes; Firehose in AWS: snappy, timestamps as
 * INT96): BIGINT is a bigint, DECIMAL its exact decimal text (hyparquet would give a
 * float, so decimals are read raw and converted here), TIMESTAMP an ISO 8601
 * instant to the millisecond (UTC), DATE `YYYY-MM-DD`, VARCHAR a string.
 */
export type ParquetCell = string | bigint | null;
export type ParquetRow = Record<string, ParquetCell>;

/** A column as the lake declares it, in DuckDB's spelling (functions/events/lake-columns.ts LakeColumn). */
export type ParquetColumn = readonly [name: string, type: string];

const iso = (ms: number): string => new Date(ms).toISOString();

/** A DECIMAL's unscaled integer (two's complement, big-endian bytes; or an INT32/INT64 value) as exact text with `scale` decimals. */
const decimalText = (raw: unknown, scale: number): string | null => {
  let unscaled: bigint;
  if (raw === null || raw === undefined) return null;
  if (raw instanceof Uint8Array) {
    unscaled = 0n;
    for (const byte of raw) unscaled = (unscaled << 8n) | BigInt(byte);
    if (raw.length > 0 && (raw[0] ?? 0) >= 0x80) unscaled -= 1n << BigInt(raw.length * 8);
  } else if (typeof raw === 'bigint') unscaled = raw;
  else if (typeof raw === 'number' && Number.isSafeInteger(raw)) unscaled = BigInt(raw);
  else throw new TypeError(`a DECIMAL cell is ${typeof raw}`);
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${text}` : text;
};

const isDecimal = (element: SchemaElement): boolean => element.converted_type === 'DECIMAL' || element.logical_type?.type === 'DECIMAL';

/** The file's metadata with its DECIMAL columns' annotations removed, so hyparquet hands their raw unscaled values over; and each one's scale. */
const rawDecimals = (metadata: FileMetaData): { metadata: FileMetaData; scales: Map<string, number> } => {
  const scales = new Map<string, number>();
  const schema = metadata.schema.map((element) => {
    if (!isDecimal(element)) return element;
    scales.set(element.name, element.scale ?? (element.logical_type?.type === 'DECIMAL' ? element.logical_type.scale : 0));
    const { converted_type: _converted, logical_type: _logical, ...plain } = element;
    return plain;
  });
  return { metadata: { ...metadata, schema }, scales };
};

const cellOf = (value: unknown, column: string, scale: number | undefined): ParquetCell => {
  if (value === null || value === undefined) return null;
  if (scale !== undefined) return decimalText(value, scale);
  if (typeof value === 'string' || typeof value === 'bigint') return value;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError(`column ${column} holds ${value}, not an integer`);
    return BigInt(value);
  }
  throw new TypeError(`column ${column} holds a ${typeof value} this reader does not decode`);
};

/**
 * The rows of a Parquet file, `columns` only (every one must exist in the file), cells as
 * ParquetCell. The file is untrusted bytes: a malformed one throws.
 */
export const readParquet = async (bytes: Uint8Array, columns: readonly string[]): Promise<ParquetRow[]> => {
  // A copy of the bytes' own span, as an ArrayBuffer (the view may be a window on a larger, or shared, buffer).
  const buffer = bytes.slice().buffer;
  const { metadata, scales } = rawDecimals(parquetMetadata(buffer));
  const present = new Set(metadata.schema.map((element) => element.name));
  const missing = columns.filter((name) => !present.has(name));
  if (missing.length > 0) throw new TypeError(`the Parquet file has no column ${missing.join(', ')}`);
  // Loaded on the first read, not with the module: compiling its snappy WebAssembly and brotli tables costs every
  // function that bundles this module at start, and most only write Parquet, or read none on most runs.
  const { compressors } = await import('hyparquet-compressors');
  const rows = await parquetReadObjects({
    file: buffer,
    metadata,
    columns: [...columns],
    compressors,
    parsers: {
      timestampFromMilliseconds: (ms: bigint) => iso(Number(ms)),
      timestampFromMicroseconds: (us: bigint) => iso(Number(us / 1000n)),
      timestampFromNanoseconds: (ns: bigint) => iso(Number(ns / 1_000_000n)),
      dateFromDays: (days: number) => iso(days * 86_400_000).slice(0, 10),
    },
  });
  return rows.map((row) => {
    const out: ParquetRow = {};
    for (const name of columns) out[name] = cellOf(row[name], name, scales.get(name));
    return out;
  });
};

const writerType = (type: string): { type: 'STRING' | 'INT64' | 'TIMESTAMP'; nullable: boolean } => {
  const nullable = !type.endsWith(' NOT NULL');
  const base = type.replace(/ NOT NULL$/, '');
  if (base === 'VARCHAR') return { type: 'STRING', nullable };
  if (base === 'BIGINT') return { type: 'INT64', nullable };
  if (base === 'TIMESTAMP') return { type: 'TIMESTAMP', nullable };
  throw new TypeError(`writing a ${base} column is not supported`);
};

/**
 * The rows as one Parquet file (snappy), columns in the given order with the given types
 * (VARCHAR, BIGINT, TIMESTAMP; `NOT NULL` makes the column required, and a null in it a
 * TypeError). TIMESTAMP cells are ISO instants, stored as milliseconds.
 */
export const writeParquet = (columns: readonly ParquetColumn[], rows: readonly ParquetRow[]): Uint8Array => {
  const columnData: ColumnSource[] = columns.map(([name, declared]) => {
    const { type, nullable } = writerType(declared);
    const data = rows.map((row) => {
      const cell = row[name];
      if (cell === null || cell === undefined) {
        if (!nullable) throw new TypeError(`column ${name} is NOT NULL`);
        return null;
      }
      if (type === 'INT64') {
        if (typeof cell !== 'bigint') throw new TypeError(`column ${name} takes a bigint`);
        return cell;
      }
      if (typeof cell !== 'string') throw new TypeError(`column ${name} takes a string`);
      if (type === 'TIMESTAMP') {
        const ms = Date.parse(cell);
        if (Number.isNaN(ms)) throw new TypeError(`column ${name} takes an ISO instant, not ${cell}`);
        return new Date(ms);
      }
      return cell;
    });
    return { name, data, type, nullable };
  });
  return new Uint8Array(parquetWriteBuffer({ columnData }));
};
