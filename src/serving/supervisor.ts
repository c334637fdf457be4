import cluster, { type Worker } from 'node:cluster';
import { readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { constants as osConstants } from 'node:os';
import { isErrorCode } from '../core/error-catalogue.js';
import { BerthError, toBerthError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { ConnectionRouter } from './connection-router.js';
import type { MetricJson } from './metrics.js';
import { setProcessPriority } from './process-priority.js';
import type { ServeSpec, ServeState } from './serve-spec.js';
import { writeServeState } from './state-file.js';
import { defaultWorkerEntry, takePreforkedWorker, workerExecArgv } from './worker-launch.js';
import {
  isWorkerMessage,
  type PrimaryMessage,
  type WireError,
  type WorkerMessage,
} from './worker-protocol.js';

export interface SupervisorOptions {
  spec: ServeSpec;
  /** Builds the spec again on SIGHUP (re-reads `--spec`, or the files behind the flags). */
  reloadSpec?: () => Promise<ServeSpec>;
  /** Where ServeState is written on every change (default: spec.stateFile). */
  stateFile?: string;
  log: Logger;
  /** Called once, when every replica of the first generation finished init, with the service URL. */
  onReady?: (url: string) => void;
  /** Init attempts before giving up (default 3); failures that cannot heal (missing script) stop at once. */
  maxInitAttempts?: number;
  /** Worker entry script (default: worker-main next to this module). */
  workerEntry?: string;
}

type ReplicaState = 'starting' | 'ready' | 'draining';

interface Replica {
  worker: Worker;
  generation: Generation;
  index: number;
  state: ReplicaState;
  spawnedAt: number;
  readyAt?: number;
  initError?: WireError;
  initTimer?: NodeJS.Timeout;
  killTimer?: NodeJS.Timeout;
  /** Started with a lower CPU priority (INIT_NICE) while the service serves: restored when ready. */
  niced?: boolean;
  load?: { busy: number; inFlight: number };
  /** Called when a graceful drain began (idle connections closed) or the worker exited. */
  onDraining?: () => void;
}

interface Generation {
  id: number;
  spec: ServeSpec;
  router: ConnectionRouter;
  desired: number;
  replicas: Set<Replica>;
  nextIndex: number;
  /** Every replica it started with finished init once. */
  startedUp: boolean;
  /** Failures in a row (init failures and crashes), for the backoff and the give-up rule. */
  failures: number;
  /** Init failures in a row: reset when a replica started after the last failure becomes ready. */
  initFailures: number;
  lastInitFailureAt: number;
  replaceTimer?: NodeJS.Timeout;
}

interface MetricsCollection {
  waiting: Set<number>;
  /** one `metrics-json` answer per replica */
  results: MetricJson[][];
  finish(): void;
}

/** Init failures that a retry cannot heal. */
const FINAL_INIT_CODES = new Set([
  'ENTRY_SCRIPT_NOT_FOUND',
  'ENTRY_SCRIPT_INVALID',
  'INVALID_CONFIG',
  'PATH_NOT_FOUND',
  'NOT_SUPPORTED',
]);
/** A replica that stayed ready this long resets the backoff. */
const STABLE_MS = 10_000;
const MAX_BACKOFF_MS = 30_000;
/** Grace after a drain timeout (and after initTimeoutMs) before SIGKILL. */
const KILL_GRACE_MS = 5_000;
const METRICS_WAIT_MS = 1_500;
/**
 * Nice value of a replica starting while others serve (reload, replacement, scale-up): its init
 * (process start, model load) yields the CPU to the serving replicas, so their latency holds.
 */
const INIT_NICE = 10;
/** How long a reload waits for the old workers to close their idle connections before it says done. */
const DRAIN_ACK_WAIT_MS = 1_000;
/** node:http's keep-alive idle timeout (server.keepAliveTimeout default): how long TLS connections may linger in a drain. */
const KEEP_ALIVE_MS = 5_000;

function backoffMs(failures: number): number {
  return failures <= 0 ? 0 : Math.min(MAX_BACKOFF_MS, 100 * 2 ** (failures - 1));
}

function serviceUrl(spec: ServeSpec, port: number): string {
  const host = spec.host.includes(':') ? `[${spec.host}]` : spec.host;
  return `${spec.tls ? 'https' : 'http'}://${host}:${port}`;
}

function readTls(spec: ServeSpec): { cert: Buffer; key: Buffer } | undefined {
  if (!spec.tls) return undefined;
  const read = (path: string, what: string) => {
    try {
      return readFileSync(path);
    } catch (cause) {
      throw new BerthError('PATH_NOT_FOUND', `Cannot read the TLS ${what} "${path}".`, {
        hint: 'Give PEM files with --tls-cert and --tls-key.',
        cause,
      });
    }
  };
  return { cert: read(spec.tls.certFile, 'certificate'), key: read(spec.tls.keyFile, 'key') };
}

function initialReplicas(spec: ServeSpec): number {
  const a = spec.autoscale;
  return a ? Math.min(a.maxReplicas, Math.max(a.minReplicas, spec.replicas)) : spec.replicas;
}

/** True when two specs differ at most in `replicas` and `autoscale`. */
function sameButScale(a: ServeSpec, b: ServeSpec): boolean {
  const rest = (s: ServeSpec) => JSON.stringify({ ...s, replicas: undefined, autoscale: undefined });
  return rest(a) === rest(b);
}

function describeExit(code: number | null, signal: string | null): string {
  return signal ? `signal ${signal}` : `exit code ${code}`;
}

/**
 * The primary process of `berth serve` (node:cluster): runs `spec.replicas` worker processes behind one
 * port and keeps them running.
 * - A worker that dies (exit, uncaught error, out of memory, SIGKILL, stall watchdog) is replaced with
 *   exponential backoff (100 ms doubling to 30 s) while the others keep serving; each replacement counts
 *   in `restarts` (state file and `berth_replica_restarts`).
 * - Init failures are retried up to `maxInitAttempts` times (at once for a missing or invalid script);
 *   when no replica can serve, it writes `failed: true` + `error` and rejects with the init error.
 * - SIGTERM/SIGINT: stop accepting, drain workers (in-flight requests finish), resolve.
 * - SIGHUP: rolling reload with `reloadSpec()`: a new generation starts and takes traffic only when all
 *   its workers are ready, then the old one drains; on failure the old one keeps serving and the state
 *   file gets `error` (generation unchanged).
 * - `spec.autoscale`: the worker count follows utilization (event-loop busy time or in-flight/limit)
 *   between the bounds, every refreshPeriodInSeconds.
 * Limits: a reload that changes host or port binds the new address when the new generation is ready
 * and closes the old one (clients of the old address must move); one primary per service.
 */
export class Supervisor {
  private readonly log: Logger;
  private readonly stateFile?: string;
  private readonly maxInitAttempts: number;
  private current!: Generation;
  private pending?: Generation;
  private readonly retired = new Set<Replica>();
  private port = 0;
  private restarts = 0;
  /** Reload outcomes so far (ServeState.reloads). */
  private reloads = 0;
  /** Why replicas of the serving generation fail init (cleared when one becomes ready). */
  private initError?: string;
  /** Why the latest reload failed (cleared by a successful one). */
  private reloadError?: string;
  private failure?: BerthError;
  private stopping = false;
  private everReady = false;
  private reloadQueued = false;
  private reloading = false;
  private lastState = '';
  /** While a reload swaps generations, the state file waits until the old idle connections are closed. */
  private holdState = false;
  private autoscaleTimer?: NodeJS.Timeout;
  private metricsSeq = 0;
  private readonly collections = new Map<number, MetricsCollection>();
  private settle!: { resolve(): void; reject(err: BerthError): void };
  private readonly finished: Promise<void>;
  private readonly signalHandlers: [NodeJS.Signals, () => void][] = [];

  constructor(private readonly options: SupervisorOptions) {
    this.log = options.log;
    this.stateFile = options.stateFile ?? options.spec.stateFile;
    this.maxInitAttempts = options.maxInitAttempts ?? 3;
    this.finished = new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.finished.catch(() => {});
  }

  /**
   * Binds the port, starts the first generation and resolves when the supervisor stopped (SIGTERM/SIGINT).
   * @throws PORT_IN_USE, PATH_NOT_FOUND (TLS files), or the init error when replicas could not start.
   */
  async run(): Promise<void> {
    const spec = this.options.spec;
    cluster.setupPrimary({
      exec: this.options.workerEntry ?? defaultWorkerEntry(),
      args: [],
      silent: false,
    });
    const router = new ConnectionRouter({ tls: readTls(spec) });
    this.port = await router.listen(spec.host, spec.port);
    this.current = this.newGeneration({ ...spec, port: this.port }, 1, router);
    this.installSignals();
    this.writeState();
    this.log.info({ port: this.port, replicas: this.current.desired, generation: 1 }, 'starting replicas');
    this.fill(this.current);
    try {
      await this.finished;
    } finally {
      for (const [signal, handler] of this.signalHandlers) process.off(signal, handler);
    }
  }

  /** Asks for a rolling reload (what SIGHUP does). */
  reload(): void {
    if (this.stopping) return;
    if (!this.options.reloadSpec) {
      this.log.warn('SIGHUP ignored: this server has no spec to reload');
      return;
    }
    if (this.reloading || this.pending || !this.everReady) {
      this.reloadQueued = true;
      return;
    }
    void this.startReload();
  }

  /** Drains every worker and resolves `run()` (what SIGTERM/SIGINT do). */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.log.info('stopping: draining replicas');
    this.clearTimers();
    void Promise.all(this.routers().map((r) => r.close()));
    for (const replica of this.allReplicas()) this.retire(replica, false);
    this.writeState();
    this.maybeFinished();
  }

  // ---- generations and replicas ----

  private newGeneration(spec: ServeSpec, id: number, router: ConnectionRouter): Generation {
    return {
      id,
      spec,
      router,
      desired: initialReplicas(spec),
      replicas: new Set(),
      nextIndex: 0,
      startedUp: false,
      failures: 0,
      initFailures: 0,
      lastInitFailureAt: 0,
    };
  }

  private live(gen: Generation): Replica[] {
    return [...gen.replicas].filter((r) => r.state !== 'draining');
  }

  private readyCount(gen: Generation): number {
    let n = 0;
    for (const r of gen.replicas) if (r.state === 'ready') n++;
    return n;
  }

  private allReplicas(): Replica[] {
    return [...this.current.replicas, ...(this.pending?.replicas ?? []), ...this.retired];
  }

  private routers(): ConnectionRouter[] {
    const routers = new Set([this.current.router]);
    if (this.pending) routers.add(this.pending.router);
    return [...routers];
  }

  /** Starts workers until the generation has `desired` live ones. */
  private fill(gen: Generation): void {
    while (this.live(gen).length < gen.desired) this.spawn(gen);
  }

  private spawn(gen: Generation): void {
    const execArgv = workerExecArgv(
      process.execArgv,
      process.env.NODE_OPTIONS,
      gen.spec.inferenceConfig.runtime,
    );
    const preforked =
      this.options.workerEntry === undefined
        ? takePreforkedWorker(defaultWorkerEntry(), execArgv)
        : undefined;
    let worker: Worker;
    if (preforked) {
      worker = preforked.worker;
    } else {
      cluster.setupPrimary({ execArgv });
      worker = cluster.fork();
    }
    const replica: Replica = {
      worker,
      generation: gen,
      index: gen.nextIndex++,
      state: 'starting',
      spawnedAt: Date.now(),
    };
    gen.replicas.add(replica);
    if (this.everReady && worker.process.pid !== undefined) {
      try {
        setProcessPriority(worker.process.pid, INIT_NICE);
        replica.niced = true;
      } catch (err) {
        this.log.debug({ err, replica: replica.index }, 'cannot lower the starting replica priority');
      }
    }
    const limit = gen.spec.limits.initTimeoutMs + KILL_GRACE_MS * 3;
    replica.initTimer = setTimeout(() => {
      replica.initError = {
        code: 'INIT_FAILED',
        message: `Replica ${replica.index} did not finish init within initTimeoutMs (${gen.spec.limits.initTimeoutMs} ms).`,
      };
      worker.process.kill('SIGKILL');
    }, limit);
    worker.on('message', (msg: unknown, handle: unknown) => this.onMessage(replica, msg, handle));
    worker.on('exit', (code, signal) => this.onExit(replica, code, signal));
    worker.on('error', (err) => this.log.warn({ err, replica: replica.index }, 'replica IPC error'));
    for (const [msg, handle] of preforked?.messages ?? []) this.onMessage(replica, msg, handle);
  }

  private send(replica: Replica, message: PrimaryMessage): void {
    if (replica.worker.isConnected()) replica.worker.send(message, undefined, { keepOpen: false }, () => {});
  }

  private onMessage(replica: Replica, msg: unknown, handle?: unknown): void {
    if (!isWorkerMessage(msg)) return;
    const m = msg as WorkerMessage;
    switch (m.type) {
      case 'hello':
        this.send(replica, {
          type: 'start',
          spec: replica.generation.spec,
          generation: replica.generation.id,
          replica: replica.index,
        });
        return;
      case 'ack':
        replica.generation.router.acked(m.id);
        return;
      case 'ready':
        this.onReady(replica);
        return;
      case 'draining':
        replica.onDraining?.();
        return;
      case 'conn-back':
        if (handle instanceof Socket) this.current.router.adopt(handle);
        return;
      case 'init-failed':
        replica.initError = m.error;
        return;
      case 'load':
        replica.load = { busy: m.busy, inFlight: m.inFlight };
        return;
      case 'metrics-request':
        void this.collectMetrics().then((text) =>
          this.send(replica, { type: 'metrics-result', id: m.id, text }),
        );
        return;
      case 'metrics-json': {
        const c = this.collections.get(m.id);
        if (!c) return;
        if (Array.isArray(m.metrics)) c.results.push(m.metrics);
        c.waiting.delete(replica.worker.id);
        if (c.waiting.size === 0) c.finish();
        return;
      }
      default:
        return;
    }
  }

  private onReady(replica: Replica): void {
    clearTimeout(replica.initTimer);
    if (replica.state !== 'starting') return;
    const gen = replica.generation;
    replica.state = 'ready';
    replica.readyAt = Date.now();
    this.restorePriority(replica);
    if (replica.spawnedAt >= gen.lastInitFailureAt) {
      gen.initFailures = 0;
      if (gen === this.current) this.initError = undefined;
    }
    this.log.info(
      { replica: replica.index, generation: gen.id, workerPid: replica.worker.process.pid },
      'replica ready',
    );
    if (gen === this.pending) {
      if (this.readyCount(gen) >= gen.desired) this.promote(gen);
      return;
    }
    if (gen !== this.current) return;
    const firstReady = !gen.startedUp && this.readyCount(gen) >= gen.desired && !this.everReady;
    if (!gen.startedUp && this.readyCount(gen) >= gen.desired) gen.startedUp = true;
    // The state file says ready before the "Listening on" line, so a reader of either sees the same.
    this.updateTraffic();
    if (firstReady) {
      this.everReady = true;
      this.startAutoscale();
      this.options.onReady?.(serviceUrl(gen.spec, this.port));
      if (this.reloadQueued) this.reload();
    }
  }

  /** Back to normal priority once ready; without the privilege to raise it (non-root), it stays lowered. */
  private restorePriority(replica: Replica): void {
    const pid = replica.worker.process.pid;
    if (!replica.niced || pid === undefined) return;
    replica.niced = false;
    try {
      setProcessPriority(pid, osConstants.priority.PRIORITY_NORMAL);
    } catch (err) {
      this.log.debug(
        { err, replica: replica.index },
        'cannot restore the replica priority (needs privileges)',
      );
    }
  }

  private onExit(replica: Replica, code: number | null, signal: string | null): void {
    clearTimeout(replica.initTimer);
    clearTimeout(replica.killTimer);
    replica.onDraining?.();
    const gen = replica.generation;
    gen.replicas.delete(replica);
    this.retired.delete(replica);
    gen.router.workerGone(replica.worker);
    for (const c of this.collections.values()) {
      if (c.waiting.delete(replica.worker.id) && c.waiting.size === 0) c.finish();
    }
    const how = describeExit(code, signal);
    if (this.stopping || replica.state === 'draining') {
      this.log.info({ replica: replica.index, generation: gen.id, how }, 'replica stopped');
      this.updateTraffic();
      this.maybeFinished();
      return;
    }
    const wasStarting = replica.state === 'starting';
    const error = wasStarting
      ? (replica.initError ?? {
          code: 'INIT_FAILED',
          message: `Replica ${replica.index} exited during init (${how}).`,
        })
      : undefined;
    if (gen === this.pending) {
      this.abortReload(error?.message ?? `Replica ${replica.index} of the new generation exited (${how}).`);
      return;
    }
    if (gen !== this.current) return;
    this.updateTraffic();
    if (error) {
      gen.initFailures++;
      gen.lastInitFailureAt = Date.now();
      gen.failures++;
      this.log.error(
        { replica: replica.index, how, code: error.code },
        `replica init failed: ${error.message}`,
      );
      const final = FINAL_INIT_CODES.has(error.code) || gen.initFailures >= this.maxInitAttempts;
      // Give up when nothing serves, or when the service never became ready (it would wait forever).
      if (final && (this.readyCount(gen) === 0 || !gen.startedUp)) {
        this.giveUp(gen, error);
        return;
      }
      this.initError = `Replica init failed (${gen.initFailures}x): ${error.message}`;
    } else {
      if (replica.readyAt !== undefined && Date.now() - replica.readyAt > STABLE_MS) gen.failures = 0;
      gen.failures++;
      this.log.error(
        { replica: replica.index, workerPid: replica.worker.process.pid, how },
        `replica died (${how}); replacing it`,
      );
    }
    this.scheduleReplacement(gen);
    this.writeState();
  }

  private scheduleReplacement(gen: Generation): void {
    if (gen.replaceTimer) return;
    const delay = backoffMs(gen.failures);
    gen.replaceTimer = setTimeout(() => {
      gen.replaceTimer = undefined;
      if (this.stopping || gen !== this.current) return;
      const missing = gen.desired - this.live(gen).length;
      for (let i = 0; i < missing; i++) {
        this.restarts++;
        this.spawn(gen);
      }
      this.writeState();
    }, delay);
  }

  private giveUp(gen: Generation, error: WireError): void {
    const code = isErrorCode(error.code) ? error.code : 'INIT_FAILED';
    const tries = gen.initFailures;
    const err = new BerthError(
      code,
      `The service could not start: replica init failed${tries > 1 ? ` ${tries} times` : ''}. Last error: ${error.message}`,
      {
        hint: 'Read the log (the error is there with its stack), fix the entry script or model, and start again.',
      },
    );
    this.initError = err.message;
    this.failure = err;
    this.log.error({ code, tries }, err.message);
    this.stop();
  }

  /**
   * Sends a replica away: it finishes its requests and exits. `graceful` (reload, scale-down) ends its
   * keep-alive connections without racing the clients' next requests (see worker-main).
   */
  private retire(replica: Replica, graceful: boolean): void {
    if (replica.state === 'draining') {
      // stopping cuts a graceful drain short: idle connections are closed now
      if (!graceful) this.send(replica, { type: 'drain', timeoutMs: 0, graceful: false });
      return;
    }
    const wasReady = replica.state === 'ready';
    replica.state = 'draining';
    replica.generation.replicas.delete(replica);
    this.retired.add(replica);
    clearTimeout(replica.initTimer);
    const limit = replica.generation.spec.limits.scoringTimeoutMs;
    const timeoutMs = wasReady
      ? (graceful && replica.generation.spec.tls ? Math.max(limit, KEEP_ALIVE_MS) : limit) + 1_000
      : 0;
    this.send(replica, { type: 'drain', timeoutMs, graceful });
    replica.killTimer = setTimeout(() => replica.worker.process.kill('SIGKILL'), timeoutMs + KILL_GRACE_MS);
  }

  private maybeFinished(): void {
    if (!this.stopping || this.allReplicas().length > 0) return;
    this.writeState();
    if (this.failure) {
      this.settle.reject(this.failure);
      return;
    }
    this.log.info('stopped');
    this.settle.resolve();
  }

  // ---- traffic, readiness, state ----

  private ready(): boolean {
    return !this.stopping && this.current.startedUp && this.readyCount(this.current) > 0;
  }

  private updateTraffic(): void {
    const gen = this.current;
    // Status first: a replica knows it is ready before its first connection arrives.
    this.broadcastStatus();
    gen.router.setTargets([...gen.replicas].filter((r) => r.state === 'ready').map((r) => r.worker));
    this.writeState();
  }

  private broadcastStatus(): void {
    const ready = this.ready();
    const status = {
      type: 'status' as const,
      desired: this.current.desired,
      readyReplicas: this.readyCount(this.current),
      restarts: this.restarts,
    };
    for (const r of this.current.replicas) this.send(r, { ...status, ready });
  }

  private writeState(): void {
    if (this.holdState && !this.stopping) return;
    const gen = this.current;
    const state: Omit<ServeState, 'updatedAt'> = {
      pid: process.pid,
      port: this.port,
      ready: this.ready(),
      replicas: { desired: gen.desired, ready: this.readyCount(gen) },
      restarts: this.restarts,
      generation: gen.id,
      ...(this.reloads > 0 ? { reloads: this.reloads } : {}),
      ...(this.reloadError || this.initError ? { error: this.reloadError ?? this.initError } : {}),
      ...(this.failure ? { failed: true } : {}),
    };
    const key = JSON.stringify(state);
    if (key === this.lastState) return;
    this.lastState = key;
    if (!this.stateFile) return;
    try {
      writeServeState(this.stateFile, { ...state, updatedAt: new Date().toISOString() });
    } catch (err) {
      this.log.warn({ err, stateFile: this.stateFile }, 'cannot write the state file');
    }
  }

  // ---- reload ----

  private async startReload(): Promise<void> {
    this.reloading = true;
    this.reloadQueued = false;
    const nextId = this.current.id + 1;
    let spec: ServeSpec;
    let router = this.current.router;
    try {
      spec = await this.options.reloadSpec!();
      const old = this.current.spec;
      const tls = readTls(spec);
      const moved = spec.host !== old.host || (spec.port !== 0 && spec.port !== this.port);
      if (moved) {
        router = new ConnectionRouter({ tls });
        const port = await router.listen(spec.host, spec.port);
        spec = { ...spec, port };
      } else {
        spec = { ...spec, port: this.port };
      }
    } catch (err) {
      this.reloading = false;
      this.failReload(nextId, toBerthError(err).message);
      return;
    }
    this.reloading = false;
    if (this.stopping) {
      if (router !== this.current.router) void router.close();
      return;
    }
    if (router === this.current.router && sameButScale(spec, this.current.spec)) {
      this.scaleInPlace(spec, nextId);
      return;
    }
    const gen = this.newGeneration(spec, nextId, router);
    this.pending = gen;
    this.log.info({ generation: gen.id, replicas: gen.desired }, 'reload: starting the new generation');
    this.fill(gen);
  }

  /** A reload that changes only `replicas` or `autoscale`: add or retire workers, replace none. */
  private scaleInPlace(spec: ServeSpec, id: number): void {
    const gen = this.current;
    const a = spec.autoscale;
    gen.spec = spec;
    gen.id = id;
    gen.desired = a ? Math.min(a.maxReplicas, Math.max(a.minReplicas, gen.desired)) : spec.replicas;
    this.reloadError = undefined;
    this.reloads++;
    const live = this.live(gen).sort((x, y) => y.index - x.index);
    for (const r of live.slice(0, Math.max(0, live.length - gen.desired))) this.retire(r, true);
    this.fill(gen);
    this.restartAutoscale();
    this.log.info({ generation: id, replicas: gen.desired }, 'reload done: scaled in place');
    this.updateTraffic();
    if (this.reloadQueued) this.reload();
  }

  private promote(gen: Generation): void {
    const old = this.current;
    this.pending = undefined;
    this.current = gen;
    gen.startedUp = true;
    this.port = gen.spec.port || this.port;
    if (gen.router === old.router && JSON.stringify(gen.spec.tls) !== JSON.stringify(old.spec.tls)) {
      try {
        gen.router.setTls(readTls(gen.spec));
      } catch (err) {
        this.log.warn({ err }, 'cannot read the new TLS files for the not-ready answers');
      }
    }
    this.reloadError = undefined;
    this.initError = undefined;
    clearTimeout(old.replaceTimer);
    // New connections go to the new generation now; the state file says so once the old workers
    // closed their idle connections, so a client that reads it and scores again reaches the new one.
    this.holdState = true;
    this.updateTraffic();
    if (old.router !== gen.router) void old.router.close();
    const retiring = [...old.replicas];
    const draining = retiring.map((r) => new Promise<void>((resolve) => (r.onDraining = resolve)));
    for (const r of retiring) this.retire(r, true);
    const cap = new Promise<void>((resolve) => setTimeout(resolve, DRAIN_ACK_WAIT_MS).unref());
    void Promise.race([Promise.all(draining), cap]).then(() => {
      this.holdState = false;
      this.reloads++;
      this.log.info({ generation: gen.id }, 'reload done: the new generation serves, the old one drains');
      this.writeState();
      this.restartAutoscale();
      if (this.reloadQueued) this.reload();
    });
  }

  private abortReload(reason: string): void {
    const gen = this.pending;
    if (!gen) return;
    this.pending = undefined;
    for (const r of [...gen.replicas]) {
      this.retire(r, false);
      r.worker.process.kill('SIGKILL');
    }
    if (gen.router !== this.current.router) void gen.router.close();
    this.failReload(gen.id, reason);
  }

  private failReload(generation: number, reason: string): void {
    this.reloadError = `Reload to generation ${generation} failed; generation ${this.current.id} keeps serving. ${reason}`;
    this.reloads++;
    this.log.error(this.reloadError);
    this.writeState();
    if (this.reloadQueued) this.reload();
  }

  // ---- autoscale ----

  private startAutoscale(): void {
    const a = this.current.spec.autoscale;
    if (!a || this.stopping) return;
    this.autoscaleTimer = setInterval(() => this.autoscale(), a.refreshPeriodInSeconds * 1000);
    this.autoscaleTimer.unref();
  }

  private restartAutoscale(): void {
    clearInterval(this.autoscaleTimer);
    this.autoscaleTimer = undefined;
    this.startAutoscale();
  }

  /** One autoscale step: scale up to what the utilization asks for, down by one at most. */
  private autoscale(): void {
    const gen = this.current;
    const a = gen.spec.autoscale;
    if (!a || this.pending || this.stopping) return;
    const ready = [...gen.replicas].filter((r) => r.state === 'ready' && r.load);
    if (ready.length === 0 || this.live(gen).length !== this.readyCount(gen)) return;
    const limit = gen.spec.limits.maxConcurrentRequestsPerContainer;
    const total = ready.reduce((sum, r) => sum + Math.max(r.load!.busy, r.load!.inFlight / limit), 0);
    const target = Math.max(1, a.targetUtilization) / 100;
    const wanted = Math.min(a.maxReplicas, Math.max(a.minReplicas, Math.ceil(total / target)));
    if (wanted > gen.desired) {
      this.log.info(
        { from: gen.desired, to: wanted, utilization: total / ready.length },
        'autoscale: adding replicas',
      );
      gen.desired = wanted;
      this.fill(gen);
    } else if (wanted < gen.desired) {
      gen.desired--;
      const newest = ready.reduce((a2, b) => (b.index > a2.index ? b : a2));
      this.log.info({ to: gen.desired, utilization: total / ready.length }, 'autoscale: removing a replica');
      this.retire(newest, true);
    } else {
      return;
    }
    this.updateTraffic();
  }

  // ---- metrics ----

  /** Asks every serving worker for its metrics and sums them (prom-client's AggregatorRegistry). */
  private collectMetrics(): Promise<string> {
    const targets = [...this.current.replicas].filter((r) => r.state === 'ready' && r.worker.isConnected());
    const id = ++this.metricsSeq;
    return new Promise<string>((resolve) => {
      const collection: MetricsCollection = {
        waiting: new Set(targets.map((r) => r.worker.id)),
        results: [],
        finish: () => {
          if (!this.collections.delete(id)) return;
          clearTimeout(timer);
          // prom-client loads on the first scrape only: the supervisor starts faster without it.
          import('prom-client')
            .then(({ AggregatorRegistry: Aggregator }) => Aggregator.aggregate(collection.results).metrics())
            .then(resolve, (err: Error) => resolve(`# metrics aggregation failed: ${err.message}\n`));
        },
      };
      const timer = setTimeout(() => collection.finish(), METRICS_WAIT_MS);
      this.collections.set(id, collection);
      for (const r of targets) this.send(r, { type: 'metrics-json-request', id });
      if (targets.length === 0) collection.finish();
    });
  }

  // ---- signals ----

  private installSignals(): void {
    const on = (signal: NodeJS.Signals, handler: () => void) => {
      process.on(signal, handler);
      this.signalHandlers.push([signal, handler]);
    };
    let stops = 0;
    const stop = () => {
      if (++stops > 1) {
        this.log.warn('second stop signal: killing replicas now');
        for (const r of this.allReplicas()) r.worker.process.kill('SIGKILL');
        return;
      }
      this.stop();
    };
    on('SIGTERM', stop);
    on('SIGINT', stop);
    on('SIGHUP', () => this.reload());
  }

  private clearTimers(): void {
    clearInterval(this.autoscaleTimer);
    for (const gen of [this.current, this.pending]) if (gen) clearTimeout(gen.replaceTimer);
  }
}

/** Runs a supervisor until SIGTERM/SIGINT (resolves) or until it gives up (rejects with the init error). */
export function runSupervisor(options: SupervisorOptions): Promise<void> {
  return new Supervisor(options).run();
}
