import { closeSync, openSync, readSync } from 'node:fs';
import { BerthError } from '../core/errors.js';
import type { InputPosition } from './mini-batch.js';

const QUOTE = 34;
const COMMA = 44;
const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/** A CSV record that is not well formed; `message` says where. */
export class CsvSyntaxError extends Error {}

/**
 * Splits one CSV record (RFC 4180: comma-separated, `"` quotes fields, `""` is a quote inside a
 * quoted field, quoted fields may span lines) into its fields. `text` has no trailing line break.
 * @returns the fields and whether each was quoted.
 * @throws CsvSyntaxError on a stray or unterminated quote.
 */
export function splitCsvRecord(text: string): { fields: string[]; quoted: boolean[] } {
  const fields: string[] = [];
  const quoted: boolean[] = [];
  const n = text.length;
  let i = 0;
  for (;;) {
    if (text.charCodeAt(i) === QUOTE) {
      let value = '';
      let from = i + 1;
      for (;;) {
        const q = text.indexOf('"', from);
        if (q === -1) throw new CsvSyntaxError(`unterminated quoted field (column ${fields.length + 1})`);
        if (text.charCodeAt(q + 1) === QUOTE) {
          value += text.slice(from, q + 1);
          from = q + 2;
          continue;
        }
        value += text.slice(from, q);
        i = q + 1;
        break;
      }
      fields.push(value);
      quoted.push(true);
      if (i === n) break;
      if (text.charCodeAt(i) !== COMMA) {
        throw new CsvSyntaxError(`unexpected text after the closing quote of column ${fields.length}`);
      }
      i++;
    } else {
      const comma = text.indexOf(',', i);
      const stop = comma === -1 ? n : comma;
      const value = text.slice(i, stop);
      if (value.includes('"'))
        throw new CsvSyntaxError(`stray quote in unquoted column ${fields.length + 1}`);
      fields.push(value);
      quoted.push(false);
      if (comma === -1) break;
      i = comma + 1;
    }
  }
  return { fields, quoted };
}

/**
 * A data record as the object an entry script receives: `{column: value}` in header order, where
 * an unquoted number becomes a number, an unquoted empty field null, and everything else a string.
 * @throws CsvSyntaxError on bad quoting or a field count that differs from the header's.
 */
export function parseCsvRow(text: string, columns: readonly string[]): Record<string, unknown> {
  const { fields, quoted } = splitCsvRecord(text);
  if (fields.length !== columns.length) {
    throw new CsvSyntaxError(`${fields.length} fields, but the header names ${columns.length} columns`);
  }
  const row: Record<string, unknown> = {};
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    row[columns[i]] = quoted[i] ? f : f === '' ? null : NUMBER.test(f) ? Number(f) : f;
  }
  return row;
}

/**
 * Reads the header record of a CSV file: the column names and where the data starts.
 * @throws INVALID_ARGUMENT for an empty file, a malformed header, or empty / duplicate column names.
 */
export function readCsvHeader(path: string): { columns: string[]; dataStart: InputPosition } {
  const fd = openSync(path, 'r');
  let bytes = Buffer.alloc(0);
  let text = '';
  let end = -1;
  try {
    const block = Buffer.allocUnsafe(64 * 1024);
    for (;;) {
      const n = readSync(fd, block, 0, block.length, bytes.length);
      bytes = Buffer.concat([bytes, block.subarray(0, n)]);
      text = bytes.toString('utf8');
      end = headerEnd(text);
      if (end !== -1 || n === 0) break;
    }
  } finally {
    closeSync(fd);
  }
  if (end === -1) end = text.length;
  let headerText = text.slice(0, end);
  const lines = headerText.split('\n').length;
  headerText = headerText.replace(/^\uFEFF/, '').replace(/\r?\n$/, '');
  if (headerText.trim() === '') {
    throw new BerthError('INVALID_ARGUMENT', `CSV input "${path}" has no header row.`, {
      hint: 'The first line of a CSV input names the columns, e.g. sepal_length,sepal_width,petal_length,petal_width',
    });
  }
  let columns: string[];
  try {
    columns = splitCsvRecord(headerText).fields;
  } catch (err) {
    throw new BerthError(
      'INVALID_ARGUMENT',
      `The header row of CSV input "${path}" is malformed: ${(err as Error).message}.`,
    );
  }
  const seen = new Set<string>();
  for (const [i, c] of columns.entries()) {
    if (c === '')
      throw new BerthError('INVALID_ARGUMENT', `Column ${i + 1} of the CSV header of "${path}" has no name.`);
    if (seen.has(c))
      throw new BerthError('INVALID_ARGUMENT', `The CSV header of "${path}" names column "${c}" twice.`);
    seen.add(c);
  }
  const offset = Buffer.byteLength(text.slice(0, end));
  return {
    columns,
    dataStart: { offset, item: 0, line: lines + (text.slice(0, end).endsWith('\n') ? 0 : 1) },
  };
}

/** Index just past the line break ending the first record (quotes respected), or -1 when not in `text` yet. */
function headerEnd(text: string): number {
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) inQuotes = !inQuotes;
    else if (c === 10 && !inQuotes) return i + 1;
  }
  return -1;
}
