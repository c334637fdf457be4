import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/** Snapshot period of the connections' traffic; "quiet" means no byte in or out for at least this long. */
const QUIET_MS = 100;

interface Tracked {
  /** bytes in + out at the snapshot before the last one, and at the last one */
  before: number;
  last: number;
  /** snapshots seen; a connection is judged quiet only after two (it may be just handed over) */
  age: number;
}

type HttpSocket = Socket & {
  _httpMessage?: unknown;
  encrypted?: boolean;
  _handle?: { reading?: boolean; readStop?: () => number } | null;
};

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
 * answer or by their idle timeout.
 */
export class WorkerConnections {
  private readonly sockets = new Map<Socket, Tracked>();
  private readonly snapshots: NodeJS.Timeout;
  private readonly sending = new Set<Promise<void>>();
  private ending = false;
  private onEmpty?: () => void;

  constructor(
    private readonly server: Pick<Server, 'emit' | 'prependListener'>,
    private readonly handBack: HandBack,
  ) {
    this.snapshots = setInterval(() => this.snapshot(), QUIET_MS);
    this.snapshots.unref();
  }

  /** Gives a connection handed over by the primary to the HTTP server. */
  add(socket: Socket): void {
    const traffic = socket.bytesRead + socket.bytesWritten;
    this.sockets.set(socket, { before: traffic, last: traffic, age: 0 });
    socket.once('close', () => this.forget(socket));
    this.server.emit('connection', socket);
    socket.resume();
  }

  /**
   * Starts the graceful end: idle connections go back to the primary now, the others after their next
   * answer. Resolves when none is left (and the handed-back ones are on their way), or after `timeoutMs`
   * (the caller then closes the rest).
   */
  end(timeoutMs: number): Promise<void> {
    if (!this.ending) {
      this.ending = true;
      this.server.prependListener(
        'request',
        (_req: unknown, res: { setHeader(n: string, v: string): void }) =>
          res.setHeader('Connection', 'close'),
      );
      this.giveBackIdle();
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

  /** Cuts a graceful end short (shutdown): `end()` resolves now. */
  abandon(): void {
    this.onEmpty?.();
  }

  private forget(socket: Socket): void {
    if (!this.sockets.delete(socket)) return;
    if (this.sockets.size === 0) this.onEmpty?.();
  }

  private snapshot(): void {
    if (this.ending) this.giveBackIdle();
    for (const [socket, t] of this.sockets) {
      t.before = t.last;
      t.last = socket.bytesRead + socket.bytesWritten;
      t.age++;
    }
  }

  private giveBackIdle(): void {
    for (const [socket, t] of this.sockets) {
      const s = socket as HttpSocket;
      const quiet = t.age >= 2 && socket.bytesRead + socket.bytesWritten === t.before;
      if (!quiet || s._httpMessage != null || s.encrypted || !s._handle?.readStop) continue;
      // What pauseOnConnect does to a new connection: nothing more is read here.
      s._handle.reading = false;
      s._handle.readStop();
      const sent = this.handBack(socket);
      this.sending.add(sent);
      void sent.finally(() => this.sending.delete(sent));
      this.forget(socket);
    }
  }
}
