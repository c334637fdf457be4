import type { Logger } from 'pino';

/** One request's log line: request id, method, route, status and duration. */
export interface RequestLogEntry {
  reqId: string;
  method: string | undefined;
  route: string;
  status: number;
  ms: number;
}

/** How long request lines wait before they are handed to the logger together. */
const BATCH_MS = 20;

/**
 * Writes one `"msg":"request"` log line per request, handed to pino in batches every 20 ms:
 * under load the destination then gets one write for hundreds of lines instead of one (or a
 * few) per request, which is most of what logging costs. Lines are at most 20 ms late and are
 * written at `flush()` (drain); a replica killed hard loses at most the last 20 ms of them.
 */
export class RequestLog {
  private pending: RequestLogEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly flushNow = (): void => this.flush();

  constructor(private readonly log: Logger) {}

  add(entry: RequestLogEntry): void {
    this.pending.push(entry);
    if (this.timer === undefined) this.timer = setTimeout(this.flushNow, BATCH_MS);
  }

  flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const entries = this.pending;
    if (entries.length === 0) return;
    this.pending = [];
    const log = this.log;
    for (let i = 0; i < entries.length; i++) log.info(entries[i], 'request');
  }
}
