import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CsvSyntaxError, parseCsvRow } from './csv-record.js';
import type { MiniBatch } from './mini-batch.js';
import { NO_ROOM, parseNumberRow, parseNumbers } from './number-row-parser.js';
import type { ItemError } from './output-line.js';

const NEWLINE = 10;
const CR = 13;
const QUOTE = 34;

/**
 * One input item, decoded by a worker and ready for scoring (or already failed as malformed).
 * `row`/`line` (files) or `file` (folders) name it in the output.
 */
export interface DecodedItem {
  /** Files: 1-based position among the input's items. */
  row?: number;
  /** Files: 1-based line number where the item starts. */
  line?: number;
  /** Folders: path relative to the input folder. */
  file?: string;
  /** The parsed JSON line, the CSV row object, or `{name, bytes}` for a file; absent when `flatCount` is set. */
  value?: unknown;
  /** Numeric fast path: the item is `flat[flatStart, flatStart + flatCount)` of its mini-batch. */
  flatStart?: number;
  flatCount?: number;
  /** JSON Lines: the item's byte range in the mini-batch's buffer. */
  start?: number;
  end?: number;
  /** Folders: the file's bytes. */
  bytes?: Buffer;
  contentType: 'application/json' | 'application/octet-stream';
  /** Set when the item could not be read; it is not scored. */
  malformed?: ItemError;
}

/** The items of one mini-batch, and what they were decoded from. */
export interface DecodedBatch {
  items: DecodedItem[];
  /** The bytes JSON Lines items point into. */
  buf?: Buffer;
  /** Numeric rows parsed straight into one flat array (see `DecodeOptions.flatRows`); reused, valid until the next decode. */
  flat?: number[];
}

/** How a worker reads its input. */
export interface InputDescription {
  kind: 'jsonl' | 'csv' | 'folder';
  /** The file, or the folder. */
  path: string;
  /** CSV: the header's column names. */
  columns?: string[];
}

export interface DecodeOptions {
  /** JSON Lines holding plain arrays of numbers go into one flat array, not a JS array per row (ONNX tensors). */
  flatRows: boolean;
}

/** The bytes an item was read from (a JSON line, a file), or its value as JSON (CSV rows, ...). */
export function rawOf(batch: DecodedBatch, item: DecodedItem): Buffer {
  if (item.bytes) return item.bytes;
  if (batch.buf && item.start !== undefined && item.end !== undefined)
    return batch.buf.subarray(item.start, item.end);
  return Buffer.from(JSON.stringify(itemValue(batch, item)));
}

/** The item's value, rebuilding a flat-parsed row as an array. */
export function itemValue(batch: DecodedBatch, item: DecodedItem): unknown {
  if (item.flatCount !== undefined && batch.flat)
    return batch.flat.slice(item.flatStart, (item.flatStart ?? 0) + item.flatCount);
  return item.value;
}

/**
 * Decodes the items of a file mini-batch from `buf`, which holds the input's bytes from file offset
 * `bufOffset` on. Blank lines are skipped, a trailing `\r` dropped, CSV records continue over line
 * breaks inside quotes; malformed lines become items with `malformed` set, naming the line.
 */
export function decodeFileMiniBatch(
  buf: Buffer,
  bufOffset: number,
  batch: MiniBatch,
  input: InputDescription,
  options: DecodeOptions,
): DecodedBatch {
  const csv = input.kind === 'csv';
  const end = batch.end - bufOffset;
  let pos = batch.start - bufOffset;
  if (batch.start === 0 && buf[pos] === 0xef && buf[pos + 1] === 0xbb && buf[pos + 2] === 0xbf) pos += 3;
  const items: DecodedItem[] = [];
  const flatRows = options.flatRows && !csv;
  flatUsed = 0;
  let line = batch.firstLine;
  let row = batch.firstItem;
  // next quote at or after pos (-1: none left); CSV only
  let quote = csv ? buf.indexOf(QUOTE, pos) : -1;
  if (quote >= end) quote = -1;
  while (pos < end) {
    const recordLine = line;
    let lineEnd = buf.indexOf(NEWLINE, pos);
    if (lineEnd === -1 || lineEnd > end) lineEnd = end;
    line++;
    if (quote !== -1 && quote < lineEnd) {
      let inQuotes = false;
      for (;;) {
        while (quote !== -1 && quote < lineEnd) {
          inQuotes = !inQuotes;
          quote = buf.indexOf(QUOTE, quote + 1);
          if (quote >= end) quote = -1;
        }
        if (!inQuotes || lineEnd >= end) break;
        lineEnd = buf.indexOf(NEWLINE, lineEnd + 1);
        if (lineEnd === -1 || lineEnd > end) lineEnd = end;
        line++;
      }
    }
    let contentEnd = lineEnd;
    if (contentEnd > pos && buf[contentEnd - 1] === CR) contentEnd--;
    if (contentEnd > pos) {
      row++;
      items.push(
        csv
          ? csvItem(buf, pos, contentEnd, row, recordLine, input)
          : jsonItem(buf, pos, contentEnd, row, recordLine, flatRows),
      );
    }
    pos = lineEnd + 1;
  }
  return { items, buf, flat: flatRows ? flatArray(flatUsed) : undefined };
}

/**
 * The numbers parsed for the current mini-batch as a plain array (what the runtime's V2 tensors
 * take). Reused while the size stays the same, as it does for every full mini-batch: a 784-feature
 * batch is a 200 KB array, and allocating one per mini-batch costs more than parsing it.
 * Valid until the next mini-batch is decoded.
 */
function flatArray(n: number): number[] {
  if (flatOut.length !== n) flatOut = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) flatOut[i] = flatScratch[i];
  return flatOut;
}
let flatOut: number[] = [];

/** Numbers of the mini-batch being decoded, parsed without allocating; copied out once per mini-batch. */
let flatScratch = new Float64Array(64 * 1024);
let flatUsed = 0;

function jsonItem(
  buf: Buffer,
  start: number,
  end: number,
  row: number,
  line: number,
  flatRows: boolean,
): DecodedItem {
  if (flatRows) {
    let count = parseNumbers(buf, start, end, flatScratch, flatUsed);
    while (count === NO_ROOM) {
      const bigger = new Float64Array(flatScratch.length * 2);
      bigger.set(flatScratch.subarray(0, flatUsed));
      flatScratch = bigger;
      count = parseNumbers(buf, start, end, flatScratch, flatUsed);
    }
    if (count >= 0) {
      const flatStart = flatUsed;
      flatUsed += count;
      return { row, line, flatStart, flatCount: count, start, end, contentType: 'application/json' };
    }
  } else {
    const numbers = parseNumberRow(buf, start, end);
    if (numbers) return { row, line, value: numbers, start, end, contentType: 'application/json' };
  }
  try {
    const value: unknown = JSON.parse(buf.toString('utf8', start, end));
    return { row, line, value, start, end, contentType: 'application/json' };
  } catch (err) {
    const malformed = {
      code: 'BAD_REQUEST',
      message: `line ${line}: malformed JSON: ${(err as Error).message}`,
    };
    return { row, line, start, end, contentType: 'application/json', malformed };
  }
}

function csvItem(
  buf: Buffer,
  start: number,
  end: number,
  row: number,
  line: number,
  input: InputDescription,
): DecodedItem {
  try {
    const value = parseCsvRow(buf.toString('utf8', start, end), input.columns ?? []);
    return { row, line, value, contentType: 'application/json' };
  } catch (err) {
    if (!(err instanceof CsvSyntaxError)) throw err;
    const malformed = { code: 'BAD_REQUEST', message: `line ${line}: malformed CSV record: ${err.message}` };
    return { row, line, contentType: 'application/json', malformed };
  }
}

/** Reads the files of a folder mini-batch; each is one item `{name, bytes}`. */
export function decodeFolderMiniBatch(batch: MiniBatch, input: InputDescription): DecodedBatch {
  const items = (batch.files ?? []).map((file): DecodedItem => {
    try {
      const bytes = readFileSync(join(input.path, file));
      return { file, value: { name: file, bytes }, bytes, contentType: 'application/octet-stream' };
    } catch (err) {
      const message = `cannot read file "${file}": ${(err as Error).message}`;
      return {
        file,
        contentType: 'application/octet-stream',
        malformed: { code: 'PATH_NOT_FOUND', message },
      };
    }
  });
  return { items };
}
