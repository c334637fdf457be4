import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/** Snapshot period of the connections' traffic; a connection is handed back after this long with no byte in or out. */
const QUIET_MS = 100;
/** How often `idleHandedBack` looks again. */
const IDLE_CHECK_MS = 20;
/** Longest a draining worker waits for its idle connections to go back before it says it drains. */
export const IDLE_HAND_BACK_MS = QUIET_MS * 3;
/**
 * A connection that cannot be handed back (a shutdown, or TLS) is closed by the server only after this
 * long with no byte in or out and no answer pending: closing sooner races a busy client's next request
 * ("other side closed"). Its answers meanwhile say `Connection: close`, so a busy client leaves by itself.
 */
export const IDLE_CLOSE_MS = 1_500;
/**
 * A keep-alive connection with no answer pending and no byte in or out for this long is closed (node's
 * default server.keepAliveTimeout). The snapshot does it, so a replica can switch node's own keep-alive
 * timer off: node re-arms that timer twice per request (after each answer, and again on the next
 * request): ~1.3% of a busy replica's main-thread samples (the anchors' echo server served ~5% more
 * requests/s without it).
 */
export const KEEP_ALIVE_IDLE_MS = 5_000;

interface Tracked {
  /** bytes in + out when last seen changing */
  bytes: number;
  /** when a change of `bytes` was last seen (ms): the connection has been quiet at least since then */
  quietSince: number;
}

type HttpSocket = Socket & {
  _httpMessage?: unknown;
  encrypted?: boolean;
  _handle?: { reading?: boolean; readStop?: () => number } | null;
};

export interface EndOptions {
  /** Give idle connections back to the primary (reload, scale-down); false = close them after IDLE_CLOSE_MS (shutdown). */
  handBack: boolean;
}

/** Gives a connection back to the primary; resolves once the handle is on its way. */
export type HandBack = (socket: Socket) => Promise<void>;

/**
 * The client connections a worker got from the primary, and how a draining worker ends them without
 * failing or answering late a request.
 *
 * Closing an idle keep-alive connection races the client's next request on it ("idle" on the server is
 * exactly when a busy client's next request is on the wire), and answering that request from the old
 * generation would be stale. So a graceful end (reload, scale-down) gives each idle connection back to
 * the primary, which hands it to a worker of the new generation: reading stops first, so whatever the
 * client sends meanwhile stays in the kernel for the next owner. "Idle" = no answer pending and no byte
 * in or out for 100 ms (so no request is half read). That happens at once and then every 100 ms; every
 * other answer says `Connection: close`. TLS connections (whose session lives here) end on their next
 * answer or by their idle timeout. A shutdown (no new generation) cannot hand connections over: it
 * closes a connection only once it has been quiet for IDLE_CLOSE_MS with no answer pending.
 */
export class WorkerConnections {
  private readonly sockets = new Map<Socket, Tracked>();
  private readonly snapshots: NodeJS.Timeout;
  private readonly sending = new Set<Promise<void>>();
  private ending = false;
  private handBackIdle = true;
  private onEmpty?: () => void;

  /**
   * @param idleTimeoutMs close connections idle this long (no answer pending, no byte in or out);
   *   0 = leave it to the server's own keep-alive timeout (TLS: the session lives in the TLS socket).
   */
  constructor(
    private readonly server: Pick<Server, 'emit' | 'prependListener'>,
    private readonly handBack: HandBack,
    private readonly idleTimeoutMs = 0,
  ) {
    this.snapshots = setInterval(() => this.snapshot(), QUIET_MS);
    this.snapshots.unref();
  }

  /** Gives a connection handed over by the primary to the HTTP server. */
  add(socket: Socket): void {
    this.sockets.set(socket, { bytes: socket.bytesRead + socket.bytesWritten, quietSince: Date.now() });
    socket.once('close', () => this.forget(socket));
    this.server.emit('connection', socket);
    socket.resume();
  }

  /**
   * Starts the end: every answer from now on says `Connection: close`; idle connections go back to the
   * primary (`handBack`) or are closed once quiet for IDLE_CLOSE_MS (shutdown). Resolves when none is
   * left (and the handed-back ones are on their way), or after `timeoutMs` (the caller closes the rest).
   */
  end(timeoutMs: number, options: EndOptions = { handBack: true }): Promise<void> {
    if (!this.ending) {
      this.ending = true;
      this.handBackIdle = options.handBack;
      this.server.prependListener(
        'request',
        (_req: unknown, res: { setHeader(n: string, v: string): void }) =>
          res.setHeader('Connection', 'close'),
      );
      this.endIdle();
    }
    return new Promise<void>((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        clearInterval(this.snapshots);
        this.onEmpty = undefined;
        void Promise.all(this.sending).then(() => resolve());
      };
      const timer = setTimeout(finish, timeoutMs);
      this.onEmpty = finish;
      if (this.sockets.size === 0) finish();
    });
  }

  /**
   * After `end()`: resolves once no connection is left idle here (each one either went back to the
   * primary, closed, or has an answer pending) and the handed-back ones are on their way, or after
   * `capMs`. A connection that saw traffic in the last 100 ms is handed back only at a later snapshot,
   * so without this wait the primary could be told "drained" while such a connection is still here.
   */
  idleHandedBack(capMs: number): Promise<void> {
    const started = Date.now();
    return new Promise<void>((resolve) => {
      const check = (): void => {
        let idle = false;
        for (const socket of this.sockets.keys()) {
          if ((socket as HttpSocket)._httpMessage == null) {
            idle = true;
            break;
          }
        }
        if (idle && Date.now() - started < capMs) return;
        clearInterval(timer);
        void Promise.all(this.sending).then(() => resolve());
      };
      const timer = setInterval(check, IDLE_CHECK_MS);
      check();
    });
  }

  /** Cuts a graceful end short (shutdown): `end()` resolves now. */
  abandon(): void {
    this.onEmpty?.();
  }

  private forget(socket: Socket): void {
    if (!this.sockets.delete(socket)) return;
    if (this.sockets.size === 0) this.onEmpty?.();
  }

  private snapshot(): void {
    const now = Date.now();
    for (const [socket, t] of this.sockets) {
      const bytes = socket.bytesRead + socket.bytesWritten;
      if (bytes !== t.bytes) {
        t.bytes = bytes;
        t.quietSince = now;
      }
    }
    if (this.ending) this.endIdle();
    else if (this.idleTimeoutMs > 0) this.closeIdle(now);
  }

  /** Keep-alive timeout: closes the connections idle for idleTimeoutMs (not while ending: see endIdle). */
  private closeIdle(now: number): void {
    for (const [socket, t] of this.sockets) {
      if (now - t.quietSince >= this.idleTimeoutMs && (socket as HttpSocket)._httpMessage == null)
        socket.destroy();
    }
  }

  private endIdle(): void {
    const now = Date.now();
    for (const [socket, t] of this.sockets) {
      const s = socket as HttpSocket;
      if (s._httpMessage != null) continue;
      if (socket.bytesRead + socket.bytesWritten !== t.bytes) continue;
      const quietMs = now - t.quietSince;
      if (this.handBackIdle && !s.encrypted && s._handle?.readStop) {
        if (quietMs < QUIET_MS) continue;
        // What pauseOnConnect does to a new connection: nothing more is read here.
        s._handle.reading = false;
        s._handle.readStop();
        const sent = this.handBack(socket);
        this.sending.add(sent);
        void sent.finally(() => this.sending.delete(sent));
        this.forget(socket);
      } else if (!this.handBackIdle && !s.encrypted && quietMs >= IDLE_CLOSE_MS) {
        socket.destroy();
      }
    }
  }
}
