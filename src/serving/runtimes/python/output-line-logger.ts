import { StringDecoder } from 'node:string_decoder';
import type { Logger } from 'pino';

/** Longest line logged as one entry; the rest of a longer line is cut (with a note of how much). */
export const MAX_LOG_LINE_BYTES = 8 * 1024;

/**
 * Turns a child's stdout or stderr into log entries, one per line, so that a script's
 * `print` lands in the service log. Partial lines wait for their end (or for `flush`).
 */
export class OutputLineLogger {
  private partial = '';
  private cut = 0;
  private readonly decoder = new StringDecoder('utf8');

  constructor(
    private readonly log: Logger,
    private readonly stream: 'stdout' | 'stderr',
  ) {}

  push(chunk: Buffer): void {
    const text = this.partial + this.decoder.write(chunk);
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.emit(line);
    if (this.partial.length > MAX_LOG_LINE_BYTES) {
      this.cut += this.partial.length - MAX_LOG_LINE_BYTES;
      this.partial = this.partial.slice(0, MAX_LOG_LINE_BYTES);
    }
  }

  /** Logs what is left of an unfinished line (the process ended). */
  flush(): void {
    this.partial += this.decoder.end();
    if (this.partial.length > 0 || this.cut > 0) this.emit(this.partial);
    this.partial = '';
  }

  private emit(line: string): void {
    let text = line.endsWith('\r') ? line.slice(0, -1) : line;
    let cut = this.cut;
    this.cut = 0;
    if (text.length > MAX_LOG_LINE_BYTES) {
      cut += text.length - MAX_LOG_LINE_BYTES;
      text = text.slice(0, MAX_LOG_LINE_BYTES);
    }
    if (cut > 0) text += ` … (${cut} more characters cut)`;
    if (this.stream === 'stderr') this.log.warn({ stream: this.stream }, text);
    else this.log.info({ stream: this.stream }, text);
  }
}
