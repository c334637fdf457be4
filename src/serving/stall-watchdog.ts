import type { Socket } from 'node:net';
import { Worker } from 'node:worker_threads';

/** What the watchdog is guarding: `init` (limit initTimeoutMs) or `serving` (limit scoringTimeoutMs). */
export type WatchdogPhase = 'init' | 'serving';

export interface StallWatchdogOptions {
  /** Service name, for the log line. */
  name: string;
  /** Extra fields of the log line (e.g. replica and generation). */
  bindings?: Record<string, unknown>;
  /** JSON-lines log file the line is appended to (stdout gets it too, unless `fileOnly`). */
  logFile?: string;
  /** With `logFile`: the line goes to the file only (the logger's own `fileOnly`). */
  fileOnly?: boolean;
  /** Heartbeat period of the main thread, in ms. */
  tickMs?: number;
}

/**
 * Replaces a replica whose event loop is blocked (a `while(true){}` in `run`, a runaway sync loop):
 * nothing in that thread can answer, so a second thread does. The main thread ticks a heartbeat into
 * a SharedArrayBuffer and records, per file descriptor, the sockets with a request in flight; the
 * watchdog thread notices when the heartbeat stopped for longer than the phase's limit, writes a
 * complete HTTP 504 (`SCORING_TIMEOUT`, `Connection: close`) to each such socket, logs why, and
 * SIGKILLs its own process so that the supervisor starts a replacement.
 *
 * Hot-path cost: a WeakMap lookup and two typed-array writes per request, and a 50 ms timer; the thread costs ~10 MB RSS.
 * Limits: TLS sockets cannot be answered from another thread (their connection is closed instead);
 * descriptors above 65535 are not tracked.
 */
export interface StallWatchdog {
  /** Sets the phase and its limit in ms (0 = off). */
  arm(phase: WatchdogPhase, limitMs: number): void;
  /** Marks a request in flight on this socket's descriptor; returns the descriptor (-1 = not tracked). */
  onRequestStart(socket: Socket, v2: boolean): number;
  /** Ends the request `onRequestStart` returned `fd` for. */
  onRequestEnd(fd: number): void;
  /** Stops the thread (drain, shutdown). */
  stop(): Promise<void>;
}

const MAX_FDS = 65_536;
/** control[] slots */
const HEARTBEAT = 0;
const LIMIT_MS = 1;
const PHASE = 2;
const MAX_FD = 3;
type TrackedSocket = Socket & { _handle?: { fd?: number } | null };

/** The socket's descriptor when the watchdog thread can answer on it (plain TCP, below MAX_FDS), else -1. */
function trackableFd(socket: Socket): number {
  const fd = (socket as TrackedSocket)._handle?.fd;
  return typeof fd === 'number' && fd >= 0 && fd < MAX_FDS && !('encrypted' in socket) ? fd : -1;
}

/** The watchdog thread (CommonJS, evaluated in a worker_thread). */
const WATCHDOG_THREAD = `
'use strict';
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { control, inflight, v2, tickMs, logFile, fileOnly, base } = workerData;
let lastBeat = Atomics.load(control, ${HEARTBEAT});
let lastChange = performance.now();
let lastCheck = lastChange;
const timer = setInterval(() => {
  const now = performance.now();
  const beat = Atomics.load(control, ${HEARTBEAT});
  // A watchdog that was itself paused (machine suspended, starved) restarts its count.
  if (beat !== lastBeat || now - lastCheck > tickMs * 20) {
    lastBeat = beat;
    lastChange = now;
  }
  lastCheck = now;
  const limit = Atomics.load(control, ${LIMIT_MS});
  if (limit > 0 && now - lastChange > limit) fire(Math.round(now - lastChange), limit);
}, tickMs);

function answer(fd, isV2, limit) {
  const message = 'Scoring took longer than ' + limit + ' ms (scoringTimeoutMs) and blocked the replica; it is being replaced.';
  const body = JSON.stringify(isV2 ? { error: message } : { error: { code: 'SCORING_TIMEOUT', message } });
  const head = 'HTTP/1.1 504 Gateway Timeout\\r\\nContent-Type: application/json; charset=utf-8\\r\\nContent-Length: ' +
    Buffer.byteLength(body) + '\\r\\nConnection: close\\r\\n\\r\\n';
  try {
    fs.writeSync(fd, head + body);
  } catch {
    return false;
  }
  // Read what the client sent after its request, so the kernel closes with FIN, not RST (which can
  // make the client drop the 504 it has not read yet).
  const sink = Buffer.allocUnsafe(65536);
  for (let i = 0; i < 16; i++) {
    try {
      if (fs.readSync(fd, sink, 0, sink.length, null) <= 0) break;
    } catch {
      break;
    }
  }
  return true;
}

function fire(blockedMs, limit) {
  clearInterval(timer);
  const serving = Atomics.load(control, ${PHASE}) === 1;
  let answered = 0;
  if (serving) {
    const maxFd = Atomics.load(control, ${MAX_FD});
    for (let fd = 0; fd <= maxFd; fd++) {
      if (inflight[fd] > 0 && answer(fd, v2[fd] === 1, limit)) answered++;
    }
  }
  const msg = serving
    ? 'The event loop was blocked for ' + blockedMs + ' ms, longer than scoringTimeoutMs (' + limit +
      ' ms): a run() that never yields. Answered ' + answered + ' request(s) with 504; the replica is killed and replaced.'
    : 'The event loop was blocked for ' + blockedMs + ' ms during init, longer than initTimeoutMs (' + limit +
      ' ms); the replica is killed.';
  const line = JSON.stringify({ level: 50, time: Date.now(), ...base, code: serving ? 'SCORING_TIMEOUT' : 'INIT_FAILED', msg }) + '\\n';
  if (!logFile || !fileOnly) { try { fs.writeSync(1, line); } catch {} }
  if (logFile) { try { fs.appendFileSync(logFile, line); } catch {} }
  process.kill(process.pid, 'SIGKILL');
}
`;

/** Starts the watchdog thread for this process; arm it with the init limit before loading the runtime. */
export function startStallWatchdog(options: StallWatchdogOptions): StallWatchdog {
  const tickMs = options.tickMs ?? 50;
  const control = new Int32Array(new SharedArrayBuffer(4 * 4));
  const inflight = new Int32Array(new SharedArrayBuffer(4 * MAX_FDS));
  const v2 = new Uint8Array(new SharedArrayBuffer(MAX_FDS));
  const thread = new Worker(WATCHDOG_THREAD, {
    eval: true,
    workerData: {
      control,
      inflight,
      v2,
      tickMs,
      logFile: options.logFile,
      fileOnly: options.fileOnly === true,
      base: { pid: process.pid, name: options.name, ...options.bindings },
    },
    stdout: false,
    stderr: false,
  });
  thread.unref();
  thread.on('error', (err) => process.emitWarning(`stall watchdog stopped: ${err.message}`));
  const heartbeat = setInterval(() => {
    control[HEARTBEAT]++;
  }, tickMs);
  heartbeat.unref();
  let maxFd = 0;
  // Per connection, not per request: a WeakMap instead of a property keeps node's Socket objects in
  // their own shape (a property added to them slows every access node's http code makes).
  const fds = new WeakMap<Socket, number>();

  return {
    arm(phase, limitMs) {
      control[PHASE] = phase === 'serving' ? 1 : 0;
      control[LIMIT_MS] = limitMs;
      control[HEARTBEAT]++;
    },
    onRequestStart(socket, isV2) {
      let fd = fds.get(socket);
      if (fd === undefined) {
        fd = trackableFd(socket);
        fds.set(socket, fd);
        // A descriptor number is reused only after its previous socket closed: drop stale counts.
        if (fd >= 0) inflight[fd] = 0;
        if (fd > maxFd) control[MAX_FD] = maxFd = fd;
      }
      if (fd < 0) return fd;
      inflight[fd]++;
      v2[fd] = isV2 ? 1 : 0;
      return fd;
    },
    onRequestEnd(fd) {
      if (fd >= 0 && inflight[fd] > 0) inflight[fd]--;
    },
    async stop() {
      clearInterval(heartbeat);
      control[LIMIT_MS] = 0;
      await thread.terminate();
    },
  };
}
