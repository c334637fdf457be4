import type { Worker } from 'node:cluster';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { BerthError } from '../core/errors.js';
import type { PrimaryMessage } from './worker-protocol.js';

export interface ConnectionRouterOptions {
  /** Certificate and key when the service speaks HTTPS (the not-ready answers need them too). */
  tls?: { cert: Buffer; key: Buffer };
  /** How long a connection may wait in the primary for a worker once the service was ready (ms). */
  holdMs?: number;
  /** Connections held at most; more are answered 503 at once. */
  maxHeld?: number;
}

interface Held {
  socket: Socket;
  timer: NodeJS.Timeout;
}

interface InHandoff {
  socket: Socket;
  worker: Worker;
  at: number;
}

/** Connections a worker may have unacknowledged at once. */
const MAX_UNACKED = 16;
/** A worker whose oldest unacknowledged connection is older than this gets no more (its loop is blocked). */
const STALLED_ACK_MS = 250;

/**
 * The listening socket of a service, owned by the supervisor (node:cluster primary), which hands each
 * accepted connection to a ready worker round-robin over IPC (what node:cluster's SCHED_RR does, but
 * under the supervisor's control):
 * - only workers that finished init get connections, so a new generation never sees traffic early;
 * - a connection stays open here until the worker acknowledges it: when the worker dies first (crash,
 *   stall watchdog), the connection goes to another worker instead of being reset;
 * - a worker that stops acknowledging (blocked event loop) gets no more connections;
 * - the port stays open while every worker is being replaced: connections wait here (up to `holdMs`)
 *   instead of being refused, so the request after a crash succeeds once the replacement is ready;
 * - before the service was ever ready, connections are answered here: 200 on liveness routes,
 *   503 NOT_READY with `Retry-After` on the others.
 */
export class ConnectionRouter {
  private server?: NetServer;
  private targets: Worker[] = [];
  private cursor = 0;
  private nextId = 0;
  /** Connections sent to a worker and not acknowledged yet, in the order they were sent. */
  private readonly handoffs = new Map<number, InHandoff>();
  private readonly held: Held[] = [];
  private wasReady = false;
  private closed = false;
  private notReady: Server;
  private readonly holdMs: number;
  private readonly maxHeld: number;

  constructor(options: ConnectionRouterOptions = {}) {
    this.holdMs = options.holdMs ?? 30_000;
    this.maxHeld = options.maxHeld ?? 1024;
    this.notReady = this.createResponder(options.tls);
  }

  /** Certificate and key changed (reload): the answers given here use the new ones. */
  setTls(tls: { cert: Buffer; key: Buffer } | undefined): void {
    this.notReady = this.createResponder(tls);
  }

  private createResponder(tls: { cert: Buffer; key: Buffer } | undefined): Server {
    const answer = (req: IncomingMessage, res: ServerResponse) => answerNotReady(req, res, this.closed);
    const server = tls ? createHttpsServer(tls, answer) : createHttpServer(answer);
    server.keepAliveTimeout = 1;
    return server;
  }

  /**
   * Binds host:port (0 = any free port) and starts routing.
   * @returns the bound port.
   * @throws PORT_IN_USE when another process has the port; INVALID_ARGUMENT when it cannot be bound.
   */
  listen(host: string, port: number): Promise<number> {
    // noDelay as node:http's own servers set it: a response written in two parts is not held by Nagle.
    const server = createNetServer({ pauseOnConnect: true, noDelay: true }, (socket) => this.route(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(bindError(err, host, port)));
      server.listen({ host, port, backlog: 511 }, () => {
        server.removeAllListeners('error');
        server.on('error', () => {});
        resolve((server.address() as { port: number }).port);
      });
    });
  }

  /** Workers that take new connections now (the serving generation's ready workers). */
  setTargets(workers: Worker[]): void {
    this.targets = workers;
    if (workers.length > 0) this.wasReady = true;
    this.flush();
  }

  /** The worker took over connection `id`: close this process's copy. */
  acked(id: number): void {
    const h = this.handoffs.get(id);
    if (!h) return;
    this.handoffs.delete(id);
    h.socket.destroy();
    this.flush();
  }

  /**
   * Takes back an idle connection from a draining worker and hands it to a current one. Nothing is
   * read from it here (as with pauseOnConnect): the client's next request waits in the kernel.
   */
  adopt(socket: Socket): void {
    const handle = (socket as Socket & { _handle?: { reading?: boolean; readStop?: () => number } | null })
      ._handle;
    if (handle?.readStop) {
      handle.reading = false;
      handle.readStop();
    }
    this.route(socket);
  }

  /** A worker exited: the connections it had not taken over go to another worker. */
  workerGone(worker: Worker): void {
    this.targets = this.targets.filter((w) => w !== worker);
    for (const [id, h] of this.handoffs) {
      if (h.worker !== worker) continue;
      this.handoffs.delete(id);
      this.route(h.socket);
    }
  }

  /** Stops accepting; held connections get 503 (the service is stopping). */
  close(): Promise<void> {
    this.closed = true;
    for (const h of this.held.splice(0)) {
      clearTimeout(h.timer);
      this.answerHere(h.socket);
    }
    const server = this.server;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  private route(socket: Socket): void {
    if (socket.destroyed) return;
    if (this.closed) {
      this.answerHere(socket);
      return;
    }
    const worker = this.pick();
    if (worker) {
      this.handOff(worker, socket);
      return;
    }
    if (!this.wasReady || this.held.length >= this.maxHeld) {
      this.answerHere(socket);
      return;
    }
    const entry: Held = {
      socket,
      timer: setTimeout(() => {
        const i = this.held.indexOf(entry);
        if (i >= 0) this.held.splice(i, 1);
        this.answerHere(socket);
      }, this.holdMs),
    };
    this.held.push(entry);
  }

  private pick(): Worker | undefined {
    const n = this.targets.length;
    if (n === 0) return undefined;
    const now = Date.now();
    const pending = new Map<Worker, { count: number; oldest: number }>();
    for (const h of this.handoffs.values()) {
      const p = pending.get(h.worker);
      if (p) p.count++;
      else pending.set(h.worker, { count: 1, oldest: h.at });
    }
    for (let i = 0; i < n; i++) {
      const worker = this.targets[(this.cursor + i) % n];
      const p = pending.get(worker);
      if (p && (p.count >= MAX_UNACKED || now - p.oldest > STALLED_ACK_MS)) continue;
      if (!worker.isConnected()) continue;
      this.cursor = (this.cursor + i + 1) % n;
      return worker;
    }
    return undefined;
  }

  private handOff(worker: Worker, socket: Socket): void {
    const id = ++this.nextId;
    this.handoffs.set(id, { socket, worker, at: Date.now() });
    const message: PrimaryMessage = { type: 'conn', id };
    // keepOpen: this process keeps its copy until the worker acknowledges (see acked / workerGone).
    worker.send(message, socket, { keepOpen: true }, (err: Error | null) => {
      if (!err || !this.handoffs.delete(id)) return;
      this.route(socket);
    });
  }

  private flush(): void {
    while (this.held.length > 0) {
      const worker = this.pick();
      if (!worker) return;
      const h = this.held.shift()!;
      clearTimeout(h.timer);
      this.handOff(worker, h.socket);
    }
  }

  private answerHere(socket: Socket): void {
    socket.on('error', () => socket.destroy());
    this.notReady.emit('connection', socket);
    socket.resume();
  }
}

function bindError(err: NodeJS.ErrnoException, host: string, port: number): BerthError {
  if (err.code === 'EADDRINUSE') {
    return new BerthError('PORT_IN_USE', `Port ${port} on ${host} is already in use by another process.`, {
      hint: 'Stop that process, or pick another port with --port N (--port 0 picks a free one).',
      cause: err,
    });
  }
  return new BerthError('INVALID_ARGUMENT', `Cannot listen on ${host}:${port}: ${err.message}.`, {
    hint:
      err.code === 'EACCES'
        ? 'Ports below 1024 need privileges; pick a port from 1024 up with --port.'
        : 'Check --host: it must be an address of this machine (127.0.0.1, 0.0.0.0, ...).',
    cause: err,
  });
}

const LIVE_ROUTES = new Set(['/', '/health/live', '/v2/health/live']);

/** Answers a request no worker can take: liveness says alive, everything else 503 NOT_READY. */
function answerNotReady(req: IncomingMessage, res: ServerResponse, stopping: boolean): void {
  req.resume();
  const path = (req.url ?? '/').split('?')[0];
  res.setHeader('Connection', 'close');
  if (!stopping && req.method === 'GET' && LIVE_ROUTES.has(path)) {
    if (path === '/v2/health/live') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"live":true}');
    } else {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Healthy');
    }
    return;
  }
  const message = stopping
    ? 'The service is shutting down.'
    : 'The service is starting: its model is still loading (init has not finished). Retry shortly.';
  const body = path.startsWith('/v2') ? { error: message } : { error: { code: 'NOT_READY', message } };
  res
    .writeHead(503, { 'Content-Type': 'application/json; charset=utf-8', 'Retry-After': '1' })
    .end(JSON.stringify(body));
}
