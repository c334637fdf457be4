import { type Logger, pino } from 'pino';
import { type ByteDestination, byteDestinationsOf } from '../../core/logger.js';

/** One request's log line: request id, method, route, status and duration. */
export interface RequestLogEntry {
  reqId: string;
  /** An HTTP method as node's parser accepted it (token characters only: written without escaping). */
  method: string | undefined;
  /** A route label of the server's own (written without escaping). */
  route: string;
  status: number;
  ms: number;
}

/** How long request lines wait before they are written together. */
const BATCH_MS = 20;
const INFO = 30;

const { asJsonSym, streamSym, timeSym, hooksSym, needsMetadataGsym, formattersSym } = pino.symbols;
const MSG = ',"msg":"request"}';

type AsJson = (this: Logger, obj: object, msg: string, level: number, time: string) => string;
type Destination = { write(data: string): unknown; lastLevel?: number } & Record<symbol, unknown>;

function internal<T>(log: Logger, sym: symbol): T | undefined {
  return (log as unknown as Record<symbol, T | undefined>)[sym];
}

/**
 * Writes one `"msg":"request"` log line per request (the logger's own JSON format, bindings
 * included), batched: lines are formatted by pino and handed to its destination as one write
 * every 20 ms. Logging line by line costs a destination write per line, which is most of a
 * small request's overhead; a batch costs one. Lines are at most 20 ms late (their `time` is the
 * batch's), `flush()` writes at once (drain), and a replica killed hard loses at most 20 ms of them.
 * With a `createLogger` logger the batch is encoded once and the same bytes go to every destination.
 * Falls back to `log.info` per line when the logger is not a plain pino instance.
 */
export class RequestLog {
  private pending: RequestLogEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly flushNow = (): void => this.flush();
  private readonly enabled: boolean;
  private readonly raw: boolean;
  /** No `formatters.log`: lines can be assembled from a template of the logger's own line. */
  private readonly templated: boolean;
  private readonly bytes: readonly ByteDestination[] | undefined;

  constructor(private readonly log: Logger) {
    this.bytes = byteDestinationsOf(log);
    this.enabled = log.isLevelEnabled('info');
    this.raw =
      typeof internal(log, asJsonSym) === 'function' &&
      typeof internal(log, timeSym) === 'function' &&
      typeof internal<Destination>(log, streamSym)?.write === 'function';
    this.templated = this.raw && internal<{ log?: unknown }>(log, formattersSym)?.log === undefined;
  }

  add(entry: RequestLogEntry): void {
    if (!this.enabled) return;
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
    if (!this.raw) {
      for (const entry of entries) this.log.info(entry, 'request');
      return;
    }
    const log = this.log;
    const asJson = internal<AsJson>(log, asJsonSym) as AsJson;
    const time = (internal<() => string>(log, timeSym) as () => string).call(log);
    let text = '';
    // the logger's own line for an empty object: {"level":30,"time":...,<bindings>,"msg":"request"}
    const empty = this.templated ? asJson.call(log, {}, 'request', INFO, time) : '';
    const cut = empty.lastIndexOf(MSG);
    if (cut > 0) {
      const head = empty.endsWith('{', cut) ? empty.slice(0, cut) : `${empty.slice(0, cut)},`;
      const tail = empty.slice(cut);
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i];
        text += `${head}"reqId":${JSON.stringify(e.reqId)},"method":"${e.method ?? ''}","route":"${e.route}","status":${e.status},"ms":${e.ms}${tail}`;
      }
    } else {
      for (let i = 0; i < entries.length; i++) text += asJson.call(log, entries[i], 'request', INFO, time);
    }
    if (this.bytes !== undefined) {
      const bytes = Buffer.from(text);
      for (const destination of this.bytes) destination.writeBytes(bytes);
      return;
    }
    const streamWrite = internal<{ streamWrite?: (s: string) => string }>(log, hooksSym)?.streamWrite;
    const stream = internal<Destination>(log, streamSym) as Destination;
    if (stream[needsMetadataGsym] === true) stream.lastLevel = INFO;
    stream.write(streamWrite ? streamWrite(text) : text);
  }
}
