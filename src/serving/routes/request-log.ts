import { type Logger, pino } from 'pino';
import { type ByteDestination, byteDestinationsOf } from '../../core/logger.js';

/** One request's log line: request id, method, route, status and duration. */
interface RequestLogEntry {
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
/**
 * Bytes of encoded lines gathered before they go to the destinations. Below glibc's mmap threshold
 * (128 KiB), so each arena comes from, and returns to, malloc's heap: no fresh pages to fault in.
 */
const ARENA_BYTES = 64 * 1024;
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
 * included), batched: the destinations get one write per 20 ms (or per 64 KiB of lines), not one
 * per line, which would be most of a small request's overhead. Lines are at most 20 ms late (their
 * `time` is their batch's), `flush()` writes at once (drain), and a replica killed hard loses at
 * most 20 ms of them.
 *
 * With a `createLogger` logger, each line is encoded into a byte arena as it is added, and the
 * arena goes as is to every destination. Gathering a batch as one string instead cost a large
 * string flattened, measured twice for its UTF-8 length and encoded, with fresh memory pages for
 * each: ~4% of an echo service's throughput. Any other pino logger gets the same lines as text;
 * one with its own `formatters.log` gets `log.info` per line.
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
  /** Lines go straight into the arena (templated, byte destinations). */
  private readonly direct: boolean;
  private arena: Buffer | undefined;
  private used = 0;
  /** The current batch's line template: what comes before the request's fields, and after. */
  private head = '';
  private tail = '';

  constructor(private readonly log: Logger) {
    this.bytes = byteDestinationsOf(log);
    this.enabled = log.isLevelEnabled('info');
    this.raw =
      typeof internal(log, asJsonSym) === 'function' &&
      typeof internal(log, timeSym) === 'function' &&
      typeof internal<Destination>(log, streamSym)?.write === 'function';
    this.templated = this.raw && internal<{ log?: unknown }>(log, formattersSym)?.log === undefined;
    this.direct = this.templated && this.bytes !== undefined;
  }

  /** Logs one answered request (its fields as arguments: no object per request). */
  add(reqId: string, method: string | undefined, route: string, status: number, ms: number): void {
    if (!this.enabled) return;
    if (this.timer === undefined) {
      this.timer = setTimeout(this.flushNow, BATCH_MS);
      if (this.direct) this.startTemplate();
    }
    if (!this.direct || this.head === '') {
      this.pending.push({ reqId, method, route, status, ms });
      return;
    }
    const line = `${this.head}"reqId":${JSON.stringify(reqId)},"method":"${method ?? ''}","route":"${route}","status":${status},"ms":${ms}${this.tail}`;
    // a UTF-16 unit takes at most 3 bytes in UTF-8
    if (this.arena === undefined || this.used + line.length * 3 > this.arena.length)
      this.writeArena(line.length * 3);
    this.used += (this.arena as Buffer).write(line, this.used);
  }

  flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.writeArena(0);
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
    for (let i = 0; i < entries.length; i++) text += asJson.call(log, entries[i], 'request', INFO, time);
    const streamWrite = internal<{ streamWrite?: (s: string) => string }>(log, hooksSym)?.streamWrite;
    const stream = internal<Destination>(log, streamSym) as Destination;
    if (stream[needsMetadataGsym] === true) stream.lastLevel = INFO;
    stream.write(streamWrite ? streamWrite(text) : text);
  }

  /**
   * The logger's own line for an empty object, cut around `"msg"`:
   * `{"level":30,"time":...,<bindings>,` + the request's fields + `"msg":"request"}\n`.
   * Leaves `head` empty (lines then go through pino) when the line does not end that way.
   */
  private startTemplate(): void {
    const log = this.log;
    const asJson = internal<AsJson>(log, asJsonSym) as AsJson;
    const time = (internal<() => string>(log, timeSym) as () => string).call(log);
    const empty = asJson.call(log, {}, 'request', INFO, time);
    const cut = empty.lastIndexOf(MSG);
    if (cut <= 0) {
      this.head = '';
      return;
    }
    this.head = empty.endsWith('{', cut) ? empty.slice(0, cut) : `${empty.slice(0, cut)},`;
    this.tail = empty.slice(cut);
  }

  /**
   * Hands the arena's lines to every destination (they keep the bytes until written, so a new
   * arena takes its place) and makes sure the next one holds at least `room` bytes.
   */
  private writeArena(room: number): void {
    const arena = this.arena;
    if (arena !== undefined && this.used > 0) {
      const lines = arena.subarray(0, this.used);
      for (const destination of this.bytes ?? []) destination.writeBytes(lines);
      this.arena = undefined;
      this.used = 0;
    }
    if (room > 0 && (this.arena === undefined || this.arena.length < room))
      this.arena = Buffer.allocUnsafeSlow(Math.max(ARENA_BYTES, room));
  }
}
