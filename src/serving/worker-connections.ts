import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/** Snapshot period of the connections' traffic; "idle" means idle for at least this long. */
const IDLE_MS = 100;

interface Tracked {
  /** bytes in + out at the snapshot before the last one, and at the last one */
  before: number;
  last: number;
  /** snapshots seen; a connection is judged idle only after two (it may be just handed over) */
  age: number;
}

type HttpSocket = Socket & { _httpMessage?: unknown; encrypted?: boolean };

/**
 * The client connections a worker got from the primary, and how to end them without failing a request.
 *
 * Closing an idle keep-alive connection races the client's next request on it: "idle" on the server
 * is exactly when a busy client's next request is on the wire. So a graceful end closes only the
 * connections that have been idle (no answer pending, no byte in or out) for at least 100 ms, at once
 * and then every 100 ms, and makes every other answer say `Connection: close`. A client that keeps
 * connections in a pool sees the close before it reuses them; a busy one gets its answer and
 * reconnects (to the new generation). TLS connections end on their next answer or their idle timeout.
 */
export class WorkerConnections {
  private readonly sockets = new Map<Socket, Tracked>();
  private readonly snapshots: NodeJS.Timeout;
  private ending = false;
  private onEmpty?: () => void;

  constructor(private readonly server: Pick<Server, 'emit' | 'prependListener'>) {
    this.snapshots = setInterval(() => this.snapshot(), IDLE_MS);
    this.snapshots.unref();
  }

  get size(): number {
    return this.sockets.size;
  }

  /** Gives a connection handed over by the primary to the HTTP server. */
  add(socket: Socket): void {
    const traffic = socket.bytesRead + socket.bytesWritten;
    this.sockets.set(socket, { before: traffic, last: traffic, age: 0 });
    socket.once('close', () => {
      this.sockets.delete(socket);
      if (this.sockets.size === 0) this.onEmpty?.();
    });
    this.server.emit('connection', socket);
    socket.resume();
  }

  /**
   * Starts the graceful end: idle connections close now, the others after their next answer.
   * Resolves when every connection is closed, or after `timeoutMs` (the caller then closes the rest).
   */
  end(timeoutMs: number): Promise<void> {
    if (!this.ending) {
      this.ending = true;
      this.server.prependListener(
        'request',
        (_req: unknown, res: { setHeader(n: string, v: string): void }) =>
          res.setHeader('Connection', 'close'),
      );
      this.closeIdle();
    }
    return new Promise<void>((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        clearInterval(this.snapshots);
        this.onEmpty = undefined;
        resolve();
      };
      const timer = setTimeout(finish, timeoutMs);
      this.onEmpty = finish;
      if (this.sockets.size === 0) finish();
    });
  }

  /** Cuts a graceful end short (shutdown): `end()` resolves now. */
  abandon(): void {
    this.onEmpty?.();
  }

  private snapshot(): void {
    if (this.ending) this.closeIdle();
    for (const [socket, t] of this.sockets) {
      t.before = t.last;
      t.last = socket.bytesRead + socket.bytesWritten;
      t.age++;
    }
  }

  private closeIdle(): void {
    for (const [socket, t] of this.sockets) {
      const s = socket as HttpSocket;
      const quiet = t.age >= 2 && socket.bytesRead + socket.bytesWritten === t.before;
      if (quiet && s._httpMessage == null && !s.encrypted) {
        socket.destroy();
      }
    }
  }
}
