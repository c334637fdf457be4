import cluster from 'node:cluster';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { BerthError, toBerthError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/logger.js';
import { routeConsoleToLog } from './console-to-log.js';
import { flushLogger } from './flush-logger.js';
import type { MetricJson } from './metrics.js';
import type { Runtime } from './runtime.js';
import { createRuntime } from './runtimes/create-runtime.js';
import { createScoringServer, type ScoringServer, type ScoringServerHooks } from './scoring-server.js';
import type { ServeSpec } from './serve-spec.js';
import { type StallWatchdog, startStallWatchdog } from './stall-watchdog.js';
import { IDLE_HAND_BACK_MS, KEEP_ALIVE_IDLE_MS, WorkerConnections } from './worker-connections.js';
import type { ClusterStatus, PrimaryMessage, WireError, WorkerMessage } from './worker-protocol.js';

/**
 * One replica of `berth serve`: a node:cluster worker started by the supervisor (supervisor.ts).
 * It asks the primary for its spec, loads the runtime (init, limited by initTimeoutMs), builds the
 * scoring server, then reports ready; from then on the primary hands it accepted connections.
 * A stall watchdog replaces it when its event loop stays blocked past the limit.
 */

/** How often a worker reports its utilization (the supervisor's autoscaler reads it). */
const LOAD_REPORT_MS = 1_000;
/** How long after ready a replica loads prom-client (unless a scrape asks sooner). */
const METRICS_START_DELAY_MS = 1_000;
/** Drain budget when the primary went away without saying goodbye. */
const ORPHAN_DRAIN_MS = 2_000;

let log: Logger | undefined;
let runtime: Runtime | undefined;
let scoring: ScoringServer | undefined;
let watchdog: StallWatchdog | undefined;
let phase: 'waiting' | 'init' | 'serving' | 'stopping' = 'waiting';
let status: ClusterStatus = { ready: false, desired: 1, readyReplicas: 0, restarts: 0 };
let metricsSeq = 0;
const metricsWaiters = new Map<number, (text: string) => void>();
let connections: WorkerConnections | undefined;
/** The service speaks HTTPS: its connections' state lives in the TLS sockets (see drain). */
let tls = false;

function send(message: WorkerMessage): void {
  if (process.connected) process.send?.(message, undefined, {}, () => {});
}

function wire(err: BerthError): WireError {
  const cause = err.cause instanceof Error ? err.cause : undefined;
  return { code: err.code, message: err.message, stack: cause?.stack ?? err.stack };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new BerthError('INIT_FAILED', `${what} did not finish within initTimeoutMs (${ms} ms).`, {
            hint: 'Make init() faster, or raise the limit (--init-timeout-ms, or limits.initTimeoutMs in the spec).',
          }),
        ),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function exit(code: number): Promise<never> {
  await watchdog?.stop().catch(() => {});
  if (log) flushLogger(log);
  process.exit(code);
}

async function closeRuntime(): Promise<void> {
  try {
    await runtime?.close();
  } catch (err) {
    log?.warn({ err }, 'runtime close failed');
  }
}

function clusterMetrics(): Promise<string> {
  const id = ++metricsSeq;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      if (metricsWaiters.delete(id))
        resolve('# cluster metrics unavailable: the supervisor did not answer\n');
    }, 5_000);
    metricsWaiters.set(id, (text) => {
      clearTimeout(timer);
      resolve(text);
    });
    send({ type: 'metrics-request', id });
  });
}

function reportLoad(): void {
  let last = performance.eventLoopUtilization();
  setInterval(() => {
    const now = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    send({ type: 'load', busy, inFlight: scoring?.inFlight() ?? 0 });
  }, LOAD_REPORT_MS).unref();
}

async function start(spec: ServeSpec, generation: number, replica: number): Promise<void> {
  phase = 'init';
  log = createLogger({
    name: spec.name,
    file: spec.logFile,
    fileOnly: spec.logFileOnly,
    level: spec.debug ? 'debug' : 'info',
  }).child({
    replica,
    generation,
  });
  if (spec.logFile) routeConsoleToLog(log);
  watchdog = startStallWatchdog({
    name: spec.name,
    bindings: { replica, generation },
    logFile: spec.logFile,
    fileOnly: spec.logFileOnly,
  });
  watchdog.arm('init', spec.limits.initTimeoutMs);
  const started = performance.now();
  const w = watchdog;
  const hooks: ScoringServerHooks = {
    onRequestStart: w.onRequestStart,
    onRequestEnd: w.onRequestEnd,
    replicaCounts: () => ({ desired: status.desired, ready: status.readyReplicas }),
    replicaRestarts: () => status.restarts,
    metricsText: clusterMetrics,
  };
  try {
    runtime = await createRuntime({
      config: spec.inferenceConfig,
      models: spec.models,
      log,
      limits: { scoringTimeoutMs: spec.limits.scoringTimeoutMs, initTimeoutMs: spec.limits.initTimeoutMs },
      environmentDir: spec.environmentDir,
    });
    await withTimeout(runtime.load(), spec.limits.initTimeoutMs, 'init()');
    scoring = createScoringServer({ spec, runtime, log, hooks });
  } catch (thrown) {
    const err = toBerthError(thrown, 'INIT_FAILED');
    log.error({ err, code: err.code, stack: wire(err).stack }, `init failed: ${err.message}`);
    send({ type: 'init-failed', error: wire(err) });
    await closeRuntime();
    await exit(1);
  }
  if ((phase as string) === 'stopping') {
    await closeRuntime();
    await exit(0);
  }
  const server = scoring!;
  // The primary owns the port and hands connections over; this sets up the server's connection
  // tracking (idle/headers timeouts, closeIdleConnections) as listen() would.
  server.server.emit('listening');
  tls = spec.tls !== undefined;
  // Plain HTTP: the connections' snapshot closes idle keep-alive connections, node's timer is off (see
  // KEEP_ALIVE_IDLE_MS). TLS keeps node's (its sockets are not the ones handed over).
  if (!tls) server.server.keepAliveTimeout = 0;
  connections = new WorkerConnections(server.server, handBack, tls ? 0 : KEEP_ALIVE_IDLE_MS);
  reportLoad();
  server.setReady(status.ready);
  w.arm('serving', spec.limits.scoringTimeoutMs);
  phase = 'serving';
  log.info({ ms: Math.round(performance.now() - started), runtime: runtime!.name }, 'replica ready');
  send({ type: 'ready' });
  // prom-client loads once the first requests had their answers, not before them (see ScoringMetrics).
  setTimeout(() => server.metrics.startCollecting(), METRICS_START_DELAY_MS).unref();
}

/** Gives an idle connection back to the primary (graceful drain): it goes to the new generation. */
function handBack(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected || !process.send) {
      socket.destroy();
      resolve();
      return;
    }
    // Detach it from this HTTP server entirely (node's handle passing would otherwise register it
    // with the server's worker bookkeeping).
    (socket as Socket & { server: unknown }).server = null;
    process.send(
      { type: 'conn-back' } satisfies WorkerMessage,
      socket,
      { keepOpen: false },
      (err: Error | null) => {
        if (err) socket.destroy();
        resolve();
      },
    );
  });
}

async function drain(timeoutMs: number, graceful: boolean): Promise<void> {
  if (phase === 'stopping') {
    if (!graceful) connections?.abandon();
    return;
  }
  const was = phase;
  phase = 'stopping';
  if (was === 'waiting') await exit(0);
  if (was === 'init') return; // start() exits once the load returns (or the primary's kill timer fires)
  const deadline = Date.now() + timeoutMs;
  if (graceful && connections) {
    const ended = connections.end(timeoutMs, { handBack: true });
    // "draining" tells the primary the reload is done: only once the idle connections went back to it
    await connections.idleHandedBack(IDLE_HAND_BACK_MS);
    send({ type: 'draining' });
    await ended;
  } else if (connections && timeoutMs > 0 && !tls) {
    // Shutdown: idle keep-alive connections close only after IDLE_CLOSE_MS quiet, not under a busy
    // client's next request (the server's closeIdleConnections would race it).
    await connections.end(timeoutMs, { handBack: false });
  }
  try {
    await scoring?.drain(Math.max(0, deadline - Date.now()));
  } catch (err) {
    log?.warn({ err }, 'drain failed');
  }
  await closeRuntime();
  log?.info('replica drained');
  await exit(0);
}

function onMessage(message: PrimaryMessage, handle: unknown): void {
  switch (message.type) {
    case 'conn': {
      const socket = handle as Socket | undefined;
      send({ type: 'ack', id: message.id });
      if (!socket) return;
      if (!scoring) {
        socket.destroy();
        return;
      }
      connections!.add(socket);
      return;
    }
    case 'start':
      void start(message.spec, message.generation, message.replica);
      return;
    case 'status':
      status = message;
      scoring?.setReady(message.ready);
      return;
    case 'drain':
      void drain(message.timeoutMs, message.graceful);
      return;
    case 'metrics-json-request': {
      const id = message.id;
      const answer = (metrics: MetricJson[]) => send({ type: 'metrics-json', id, metrics });
      if (!scoring) answer([]);
      else scoring.metrics.json().then(answer, () => answer([]));
      return;
    }
    case 'metrics-result':
      metricsWaiters.get(message.id)?.(message.text);
      metricsWaiters.delete(message.id);
      return;
  }
}

function main(): void {
  if (!cluster.isWorker || !process.send) {
    process.stderr.write('worker-main is started by `berth serve` (the supervisor), not by hand.\n');
    process.exit(2);
  }
  // The primary decides when to stop (a Ctrl-C reaches the whole process group): drain on its word.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => {});
  process.on('disconnect', () => {
    void drain(ORPHAN_DRAIN_MS, false).then(() => exit(0));
  });
  process.on('uncaughtException', (err) => {
    log?.fatal({ err }, `uncaught error, the replica exits: ${err.message}`);
    if (phase === 'init') send({ type: 'init-failed', error: wire(toBerthError(err, 'INIT_FAILED')) });
    if (!log) process.stderr.write(`${err.stack ?? err}\n`);
    void exit(1);
  });
  process.on('message', (message: PrimaryMessage, handle: unknown) => onMessage(message, handle));
  send({ type: 'hello' });
}

main();
