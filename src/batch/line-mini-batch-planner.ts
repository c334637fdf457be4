import { closeSync, openSync, readSync } from 'node:fs';
import type { InputPosition, MiniBatch } from './mini-batch.js';

const NEWLINE = 10;
const QUOTE = 34;
const CR = 13;
const READ_BYTES = 4 * 1024 * 1024;

/**
 * Cuts a JSON Lines or CSV file into mini-batches of `miniBatchSize` items without parsing them:
 * it only finds line ends (and, for CSV, quoted fields spanning lines). Blank lines are no items.
 * Reads the file in 4 MiB blocks, so memory stays flat whatever the file size.
 */
export class LineMiniBatchPlanner {
  private readonly fd: number;
  private buf = Buffer.allocUnsafe(READ_BYTES);
  /** File offset of buf[0]. */
  private bufStart: number;
  private bufLen = 0;
  /** Offset of the next unread line. */
  private pos: number;
  private line: number;
  private item: number;
  private index = 0;
  private eof = false;
  private closed = false;
  /** Cache of quoteFrom(): the first quote at or after quoteSearchedFrom, for one buffer state. */
  private quote = -1;
  private quoteSearchedFrom = 0;
  private quoteKey = -1;

  constructor(
    path: string,
    private readonly kind: 'jsonl' | 'csv',
    private readonly miniBatchSize: number,
    from: InputPosition,
  ) {
    this.fd = openSync(path, 'r');
    this.bufStart = from.offset;
    this.pos = from.offset;
    this.line = from.line;
    this.item = from.item;
  }

  /** The next mini-batch, or undefined at the end of the file. */
  next(): MiniBatch | undefined {
    const start = this.pos;
    const firstLine = this.line;
    const firstItem = this.item;
    let count = 0;
    let inQuotes = false;
    let recordHasContent = false;
    // Blank lines before the first item belong to this batch's range, so ranges tile the file.
    while (count < this.miniBatchSize) {
      const end = this.nextLineEnd();
      if (end < 0) break;
      let lineStart = this.pos - this.bufStart;
      if (this.pos === 0 && this.buf[0] === 0xef && this.buf[1] === 0xbb && this.buf[2] === 0xbf)
        lineStart += 3;
      const lineEnd = end - this.bufStart; // index of '\n' or of the file end
      let contentEnd = lineEnd;
      if (contentEnd > lineStart && this.buf[contentEnd - 1] === CR) contentEnd--;
      const blank = contentEnd === lineStart;
      if (this.kind === 'csv') {
        for (let q = this.quoteFrom(this.pos); q < end; q = this.quoteFrom(q + 1)) inQuotes = !inQuotes;
        recordHasContent ||= !blank;
      } else {
        recordHasContent = !blank;
      }
      this.pos = Math.min(end + 1, this.bufStart + this.bufLen);
      this.line++;
      if (!inQuotes && recordHasContent) {
        count++;
        this.item++;
        recordHasContent = false;
      }
      // an unterminated quote at the end of the file still closes the last record (the worker reports it)
      if (inQuotes && this.eof && this.pos >= this.bufStart + this.bufLen) {
        count++;
        this.item++;
        inQuotes = false;
        recordHasContent = false;
      }
    }
    if (count === 0) {
      this.close();
      return undefined;
    }
    return { index: this.index++, firstItem, count, start, end: this.pos, firstLine, endLine: this.line };
  }

  /** Position after the last planned mini-batch. */
  position(): InputPosition {
    return { offset: this.pos, item: this.item, line: this.line };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  /** File offset of the first '"' at or after `from` in the buffer, or the buffer's end when there is none. */
  private quoteFrom(from: number): number {
    const valid =
      this.quoteKey === this.bufStart * 4_294_967_296 + this.bufLen &&
      this.quoteSearchedFrom <= from &&
      from <= this.quote;
    if (!valid) {
      const i = this.buf.indexOf(QUOTE, from - this.bufStart);
      this.quote = i === -1 || i >= this.bufLen ? this.bufStart + this.bufLen : this.bufStart + i;
      this.quoteSearchedFrom = from;
      this.quoteKey = this.bufStart * 4_294_967_296 + this.bufLen;
    }
    return this.quote;
  }

  /** File offset of the '\n' ending the line at `pos` (or the file end for a last line without one); -1 at EOF. */
  private nextLineEnd(): number {
    for (;;) {
      const rel = this.pos - this.bufStart;
      if (rel < this.bufLen) {
        const nl = this.buf.indexOf(NEWLINE, rel);
        if (nl !== -1 && nl < this.bufLen) return this.bufStart + nl;
        if (this.eof) return this.bufStart + this.bufLen;
      } else if (this.eof) {
        return -1;
      }
      this.refill();
    }
  }

  /** Keeps the unread tail, reads more after it; grows the buffer for lines longer than it. */
  private refill(): void {
    const rel = this.pos - this.bufStart;
    const tail = this.bufLen - rel;
    if (rel === 0 && tail === this.buf.length) {
      const bigger = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(bigger, 0, 0, tail);
      this.buf = bigger;
    } else if (tail > 0) {
      this.buf.copy(this.buf, 0, rel, this.bufLen);
    }
    this.bufStart = this.pos;
    this.bufLen = tail;
    while (this.bufLen < this.buf.length) {
      const n = readSync(
        this.fd,
        this.buf,
        this.bufLen,
        this.buf.length - this.bufLen,
        this.bufStart + this.bufLen,
      );
      if (n === 0) {
        this.eof = true;
        break;
      }
      this.bufLen += n;
    }
  }
}
