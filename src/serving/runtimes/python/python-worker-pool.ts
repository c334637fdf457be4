import type { Logger } from 'pino';
import { BerthError } from '../../../core/errors.js';
import type { RequestFrameKind } from './python-frame.js';
import type { PythonWorker, WorkerReady } from './python-worker.js';

export interface PythonWorkerPoolOptions {
  /** Worker processes kept running. */
  size: number;
  /** Starts worker number `id` (the pool numbers them 1, 2, …; replacements get new numbers). */
  spawn(id: number): PythonWorker;
  log: Logger;
  /** A run() longer than this is answered 504 and its worker killed and replaced. */
  scoringTimeoutMs: number;
  /** A worker whose init() takes longer than this is killed (at start: load fails). */
  initTimeoutMs: number;
}

interface Waiter {
  kind: RequestFrameKind;
  payload: Buffer;
  resolve(result: Buffer): void;
  reject(err: unknown): void;
  timer: NodeJS.Timeout;
}

/** Restart attempts in a row after which requests stop waiting for a worker that keeps failing. */
const RESTART_FAILURES_BEFORE_GIVING_UP = 3;
const RESTART_BACKOFF_MAX_MS = 30_000;
const STOP_GRACE_MS = 2_000;

/**
 * A fixed number of Python workers, each running one request at a time. Requests wait in a
 * FIFO queue for a free worker (at most `scoringTimeoutMs`, then 504; the caller bounds how
 * many are sent). A worker that dies or hangs is replaced; the others go on serving.
 */
export class PythonWorkerPool {
  private readonly workers = new Set<PythonWorker>();
  private readonly queue: Waiter[] = [];
  private nextId = 1;
  private closing = false;
  private started = false;
  private restartFailures = 0;
  private lastRestartError: BerthError | undefined;
  private readonly restartTimers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: PythonWorkerPoolOptions) {}

  /** Live workers (starting, idle or busy). */
  get size(): number {
    return this.workers.size;
  }

  /** Requests waiting for a free worker. */
  get queued(): number {
    return this.queue.length;
  }

  /**
   * Starts every worker and waits for all of their init(). Resolves with the first worker's
   * report; on any failure stops them all and throws its error (INIT_FAILED, ENTRY_SCRIPT_INVALID, …).
   */
  async start(): Promise<WorkerReady> {
    const starting = Array.from({ length: this.options.size }, () => this.startWorker());
    const results = await Promise.allSettled(starting);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.close();
      throw failed.reason;
    }
    this.started = true;
    const first = (results[0] as PromiseFulfilledResult<WorkerReady>).value;
    this.dispatch();
    return first;
  }

  /** Runs one request on the next free worker; see PythonWorker.run for what it rejects with. */
  run(kind: RequestFrameKind, payload: Buffer): Promise<Buffer> {
    if (this.closing) return Promise.reject(closedError());
    if (this.gaveUp()) return Promise.reject(this.unavailableError());
    return new Promise<Buffer>((resolve, reject) => {
      const waiter: Waiter = {
        kind,
        payload,
        resolve,
        reject,
        timer: setTimeout(() => {
          const at = this.queue.indexOf(waiter);
          if (at < 0) return;
          this.queue.splice(at, 1);
          reject(
            new BerthError(
              'SCORING_TIMEOUT',
              `No Python worker became free within ${this.options.scoringTimeoutMs} ms (all ${this.options.size} busy).`,
              { hint: 'Add workers (workersPerReplica) or replicas, or send fewer requests at once.' },
            ),
          );
        }, this.options.scoringTimeoutMs),
      };
      this.queue.push(waiter);
      this.dispatch();
    });
  }

  /** Stops every worker (letting a running request finish for a short grace) and fails waiting requests. */
  async close(): Promise<void> {
    this.closing = true;
    for (const timer of this.restartTimers) clearTimeout(timer);
    this.restartTimers.clear();
    for (const waiter of this.queue.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(closedError());
    }
    await Promise.all([...this.workers].map((w) => w.stop(STOP_GRACE_MS)));
  }

  private startWorker(): Promise<WorkerReady> {
    const worker = this.options.spawn(this.nextId++);
    this.workers.add(worker);
    let served = false;
    const initTimer = setTimeout(() => {
      this.options.log.error(
        { worker: worker.id, initTimeoutMs: this.options.initTimeoutMs },
        'init() did not finish within initTimeoutMs; killing the Python worker',
      );
      worker.kill(
        new BerthError(
          'INIT_FAILED',
          `init() did not finish within ${this.options.initTimeoutMs} ms; the worker was stopped.`,
          {
            hint: 'Raise initTimeoutMs (berth serve --init-timeout-ms, or the deployment config), or make init() faster.',
          },
        ),
      );
    }, this.options.initTimeoutMs);
    worker.exited.then(() => {
      clearTimeout(initTimer);
      this.workers.delete(worker);
      // a worker that failed its init is retried by replace(), not here
      if (served && !this.closing) this.replace();
    });
    return worker.ready.then(
      (ready) => {
        clearTimeout(initTimer);
        served = true;
        return ready;
      },
      (err: unknown) => {
        clearTimeout(initTimer);
        throw err instanceof BerthError && err.code !== 'INTERNAL'
          ? err
          : new BerthError('INIT_FAILED', `The Python worker did not finish init(): ${String(err)}`, {
              cause: err,
            });
      },
    );
  }

  private replace(): void {
    const delay =
      this.restartFailures === 0
        ? 0
        : Math.min(1000 * 2 ** (this.restartFailures - 1), RESTART_BACKOFF_MAX_MS);
    const timer = setTimeout(() => {
      this.restartTimers.delete(timer);
      if (this.closing) return;
      this.startWorker().then(
        () => {
          this.restartFailures = 0;
          this.lastRestartError = undefined;
          this.dispatch();
        },
        (err: unknown) => {
          this.restartFailures++;
          this.lastRestartError = err instanceof BerthError ? err : undefined;
          this.options.log.error(
            { err, failures: this.restartFailures },
            'A replacement Python worker failed to start',
          );
          if (this.gaveUp()) this.failQueue();
          if (!this.closing) this.replace();
        },
      );
    }, delay);
    this.restartTimers.add(timer);
  }

  private dispatch(): void {
    if (this.queue.length === 0) return;
    for (const worker of this.workers) {
      if (this.queue.length === 0) return;
      if (!worker.isIdle) continue;
      const waiter = this.queue.shift()!;
      clearTimeout(waiter.timer);
      worker.run(waiter.kind, waiter.payload, this.options.scoringTimeoutMs).then(
        (result) => {
          waiter.resolve(result);
          this.dispatch();
        },
        (err: unknown) => {
          waiter.reject(err);
          this.dispatch();
        },
      );
    }
  }

  /** True when no worker is up and restarts keep failing: waiting would only end in a timeout. */
  private gaveUp(): boolean {
    return (
      this.started && this.restartFailures >= RESTART_FAILURES_BEFORE_GIVING_UP && this.liveCount() === 0
    );
  }

  private liveCount(): number {
    let n = 0;
    for (const w of this.workers) if (w.isAlive) n++;
    return n;
  }

  private failQueue(): void {
    for (const waiter of this.queue.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(this.unavailableError());
    }
  }

  private unavailableError(): BerthError {
    const why = this.lastRestartError ? `: ${this.lastRestartError.message}` : '';
    return new BerthError(
      'SCORING_FAILED',
      `No Python worker is running: restarting them failed ${this.restartFailures} times in a row${why}`,
      { hint: 'See the service log for the traceback; Berth keeps retrying in the background.' },
    );
  }
}

function closedError(): BerthError {
  return new BerthError('NOT_READY', 'The Python runtime is shutting down.', {
    hint: 'Retry: a replica that is not stopping will answer.',
  });
}
