import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';

/** Pending bytes above which records are dropped rather than buffered (the disk is not keeping up). */
const MAX_PENDING_BYTES = 16 * 1024 * 1024;
/** How often buffered records are appended to their file. */
const FLUSH_INTERVAL_MS = 1_000;

/**
 * Appends `{"time","requestId","input","output"}` JSON lines to `<dir>/<YYYY-MM-DD>.jsonl` (UTC day).
 * Off the critical path: `collect` only serialises into memory; a timer appends once a second.
 * When more than 16 MiB are waiting (disk slower than traffic), new records are dropped and counted.
 */
export class DataCollector {
  private pending: string[] = [];
  private pendingBytes = 0;
  private pendingDay = '';
  private writing: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private dirReady: Promise<unknown> | undefined;
  /** Records dropped because too many were waiting. */
  dropped = 0;

  constructor(
    private readonly dir: string,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  /** Queues one record; Buffers are stored as base64 strings. */
  collect(requestId: string, input: unknown, output: unknown): void {
    if (this.pendingBytes > MAX_PENDING_BYTES) {
      this.dropped++;
      return;
    }
    const time = new Date().toISOString();
    const day = time.slice(0, 10);
    if (day !== this.pendingDay && this.pending.length > 0) void this.flush();
    this.pendingDay = day;
    let line: string;
    try {
      line = `${JSON.stringify({ time, requestId, input: encode(input), output: encode(output) })}\n`;
    } catch (err) {
      this.log.warn({ err, requestId }, 'data collection: record is not JSON-serialisable, skipped');
      return;
    }
    this.pending.push(line);
    this.pendingBytes += line.length;
  }

  /** Appends what is buffered; resolves when it is on disk (in order with earlier flushes). */
  flush(): Promise<void> {
    if (this.pending.length === 0) return this.writing;
    const text = this.pending.join('');
    const file = join(this.dir, `${this.pendingDay}.jsonl`);
    this.pending = [];
    this.pendingBytes = 0;
    this.dirReady ??= mkdir(this.dir, { recursive: true });
    const dirReady = this.dirReady;
    this.writing = this.writing
      .then(() => dirReady)
      .then(() => appendFile(file, text))
      .catch((err: unknown) => this.log.error({ err, file }, 'data collection: append failed'));
    return this.writing;
  }

  /** Stops the timer and writes what is left. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}

function encode(value: unknown): unknown {
  return Buffer.isBuffer(value) ? value.toString('base64') : value;
}
