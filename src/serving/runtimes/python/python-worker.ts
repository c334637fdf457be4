import { type ChildProcess, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from 'pino';
import { type ErrorCode, isErrorCode } from '../../../core/error-catalogue.js';
import { BerthError } from '../../../core/errors.js';
import { OutputLineLogger } from './output-line-logger.js';
import {
  FRAME_ERROR,
  FRAME_INIT_FAILED,
  FRAME_QUIT,
  FRAME_READY,
  FRAME_RESULT,
  type Frame,
  FrameDecoder,
  frameHeader,
  type RequestFrameKind,
} from './python-frame.js';

/** What a worker reports once its init() finished. */
export interface WorkerReady {
  python: string;
  pid: number;
  /** JSON Schemas from the script's inference_schema decorators (empty when it has none). */
  schema: { input?: object; output?: object };
}

export interface PythonWorkerOptions {
  id: number;
  interpreter: string;
  /** python/berth_worker.py */
  workerScript: string;
  entryScript: string;
  sourceDirectory?: string;
  cwd: string;
  /** The child's whole environment. */
  env: NodeJS.ProcessEnv;
  log: Logger;
}

/** How a worker ended: exit code or signal, and whether Berth killed it. */
export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  killedByBerth: boolean;
}

interface PendingRun {
  resolve(result: Buffer): void;
  reject(err: BerthError): void;
  timer: NodeJS.Timeout;
}

/** `ending`: the worker said it is about to exit (sys.exit in run); it takes no more requests. */
type WorkerState = 'starting' | 'idle' | 'busy' | 'ending' | 'exited';

interface WorkerFailure {
  code?: unknown;
  message?: unknown;
  traceback?: unknown;
  missingModule?: unknown;
  /** The worker exits after this answer. */
  fatal?: unknown;
}

/** Grace between the child's exit and its last frames being read (the pipe may lag the exit). */
const EXIT_SETTLE_MS = 300;

/**
 * One Python process running berth_worker.py: init() once, then one run() at a time over
 * fds 3 (requests) and 4 (answers); its stdout/stderr go to the log line by line.
 * `ready` settles when init() finished or failed; `exited` when the process is gone.
 */
export class PythonWorker {
  readonly id: number;
  readonly ready: Promise<WorkerReady>;
  readonly exited: Promise<WorkerExit>;
  private state: WorkerState = 'starting';
  private readonly child: ChildProcess;
  private readonly requests: Writable;
  private readonly log: Logger;
  private pending: PendingRun | undefined;
  private killedByBerth = false;
  private initFailure: BerthError | undefined;
  private resolveReady!: (ready: WorkerReady) => void;
  private rejectReady!: (err: BerthError) => void;
  private readonly interpreter: string;

  constructor(options: PythonWorkerOptions) {
    this.id = options.id;
    this.interpreter = options.interpreter;
    this.log = options.log.child({ worker: options.id });
    this.ready = new Promise<WorkerReady>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => {}); // observed by whoever awaits it; never an unhandled rejection
    const config = JSON.stringify({
      entryScript: options.entryScript,
      sourceDirectory: options.sourceDirectory,
    });
    this.child = spawn(options.interpreter, [options.workerScript, config], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    });
    this.requests = this.child.stdio[3] as Writable;
    this.requests.on('error', () => {}); // EPIPE when the worker died: reported through 'exit'
    const answers = this.child.stdio[4] as Readable;
    const decoder = new FrameDecoder();
    answers.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = decoder.push(chunk);
      } catch (err) {
        this.log.error({ err }, 'The Python worker broke the protocol; killing it');
        this.kill();
        return;
      }
      for (const frame of frames) this.onFrame(frame);
    });
    const stdout = new OutputLineLogger(this.log, 'stdout');
    const stderr = new OutputLineLogger(this.log, 'stderr');
    this.child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    this.child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));

    this.exited = new Promise<WorkerExit>((resolve) => {
      let settled = false;
      const finish = (code: number | null, signal: NodeJS.Signals | null) => {
        if (settled) return;
        settled = true;
        stdout.flush();
        stderr.flush();
        const exit: WorkerExit = { code, signal, killedByBerth: this.killedByBerth };
        this.onExit(exit);
        resolve(exit);
      };
      this.child.on('error', (err: NodeJS.ErrnoException) => {
        const hint =
          'Set "pythonInterpreter" in the inference config or BERTH_PYTHON to a Python 3 interpreter.';
        const message =
          err.code === 'ENOENT'
            ? `The Python interpreter "${this.interpreter}" was not found.`
            : `Starting the Python interpreter "${this.interpreter}" failed: ${err.message}`;
        this.initFailure = new BerthError('INIT_FAILED', message, { hint, cause: err });
        finish(null, null);
      });
      this.child.on('exit', (code, signal) => {
        // the last frames (an error just before sys.exit) may still sit in the pipe
        if (answers.destroyed) return finish(code, signal);
        const timer = setTimeout(() => finish(code, signal), EXIT_SETTLE_MS);
        answers.once('close', () => {
          clearTimeout(timer);
          finish(code, signal);
        });
      });
    });
  }

  /** The worker's process id (undefined when it could not start). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  get isIdle(): boolean {
    return this.state === 'idle';
  }

  get isAlive(): boolean {
    return this.state !== 'exited';
  }

  /**
   * Runs one request. Resolves with run()'s result as JSON bytes; rejects with BAD_REQUEST or
   * SCORING_FAILED (run raised, or the worker died), or SCORING_TIMEOUT after `timeoutMs`,
   * in which case the worker is killed.
   */
  run(kind: RequestFrameKind, payload: Buffer, timeoutMs: number): Promise<Buffer> {
    if (this.state !== 'idle') {
      return Promise.reject(
        new BerthError('INTERNAL', `Python worker ${this.id} is ${this.state}, not idle.`),
      );
    }
    this.state = 'busy';
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.pending) return;
        this.pending = undefined;
        this.log.error(
          { timeoutMs },
          'run() did not finish within scoringTimeoutMs; killing the Python worker',
        );
        reject(
          new BerthError(
            'SCORING_TIMEOUT',
            `run() took longer than ${timeoutMs} ms; its Python worker was stopped.`,
            {
              hint: 'Raise scoringTimeoutMs in the deployment config, or make run() faster.',
            },
          ),
        );
        this.kill();
      }, timeoutMs);
      this.pending = { resolve, reject, timer };
      this.requests.cork();
      this.requests.write(frameHeader(kind, payload.length));
      this.requests.write(payload);
      this.requests.uncork();
    });
  }

  /** Kills the process at once (SIGKILL); `reason` becomes the init error when init() had not finished. */
  kill(reason?: BerthError): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    if (reason && this.state === 'starting') this.initFailure ??= reason;
    this.killedByBerth = true;
    this.child.kill('SIGKILL');
  }

  /** Asks the worker to finish (after its current request), then kills it after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined) {
      this.killedByBerth = true;
      this.requests.end(frameHeader(FRAME_QUIT, 0));
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    } else {
      await this.exited;
    }
  }

  private onFrame(frame: Frame): void {
    switch (frame.kind) {
      case FRAME_READY: {
        const ready = parseJson<WorkerReady>(frame.payload);
        this.state = 'idle';
        this.log.info({ pid: ready?.pid, python: ready?.python }, 'Python worker ready');
        this.resolveReady({ python: ready?.python ?? '', pid: ready?.pid ?? 0, schema: ready?.schema ?? {} });
        return;
      }
      case FRAME_INIT_FAILED: {
        const failure = parseJson<WorkerFailure>(frame.payload) ?? {};
        this.initFailure = toInitError(failure, this.interpreter);
        if (typeof failure.traceback === 'string') {
          // the Python traceback is what explains it: it stands as the error's stack (logs print `stack`)
          this.initFailure.stack = failure.traceback.trimEnd();
          this.log.error({ stack: this.initFailure.stack }, this.initFailure.message);
        } else {
          this.log.error(this.initFailure.message);
        }
        return;
      }
      case FRAME_RESULT:
      case FRAME_ERROR: {
        const pending = this.pending;
        if (!pending) return; // the request timed out meanwhile
        this.pending = undefined;
        clearTimeout(pending.timer);
        if (frame.kind === FRAME_RESULT) {
          if (this.state === 'busy') this.state = 'idle';
          pending.resolve(frame.payload);
          return;
        }
        const failure = parseJson<WorkerFailure>(frame.payload) ?? {};
        if (this.state === 'busy') this.state = failure.fatal === true ? 'ending' : 'idle';
        const code: ErrorCode = isErrorCode(failure.code) ? failure.code : 'SCORING_FAILED';
        const message = typeof failure.message === 'string' ? failure.message : 'run() failed.';
        if (typeof failure.traceback === 'string') {
          this.log.error({ stack: failure.traceback.trimEnd(), code }, message);
        } else {
          this.log.warn({ code }, message);
        }
        const err = new BerthError(code, message);
        if (typeof failure.traceback === 'string') err.stack = failure.traceback.trimEnd(); // shown in debug mode
        pending.reject(err);
        return;
      }
      default:
        this.log.error({ kind: frame.kind }, 'Unknown frame from the Python worker; killing it');
        this.kill();
    }
  }

  private onExit(exit: WorkerExit): void {
    const wasStarting = this.state === 'starting';
    this.state = 'exited';
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    if (wasStarting) {
      this.rejectReady(
        this.initFailure ??
          new BerthError('INIT_FAILED', `The Python worker ${how} before init() finished.`, {
            hint: 'See the service log for what the script printed.',
          }),
      );
      return;
    }
    const pending = this.pending;
    if (pending) {
      this.pending = undefined;
      clearTimeout(pending.timer);
      pending.reject(
        new BerthError('SCORING_FAILED', `The Python worker ${how} while running run(); it is replaced.`, {
          hint: 'See the service log for what the script printed before it ended.',
        }),
      );
    }
    if (exit.killedByBerth) this.log.info({ code: exit.code, signal: exit.signal }, 'Python worker stopped');
    else this.log.warn({ code: exit.code, signal: exit.signal }, `The Python worker ${how}`);
  }
}

function parseJson<T>(payload: Buffer): T | undefined {
  try {
    return JSON.parse(payload.toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

function toInitError(failure: WorkerFailure, interpreter: string): BerthError {
  const code: ErrorCode = isErrorCode(failure.code) ? failure.code : 'INIT_FAILED';
  const message = typeof failure.message === 'string' ? failure.message : 'init() failed.';
  let hint = 'See the traceback in the service log (berth service logs, or the output of berth serve).';
  if (typeof failure.missingModule === 'string') {
    hint =
      `The module "${failure.missingModule}" is not importable by ${interpreter}: list its package in the ` +
      'conda file, install it (Debian: apt-get install python3-…), or set "pythonInterpreter" / BERTH_PYTHON ' +
      'to an interpreter that has it (on Debian, /usr/bin/python3 has the python3-* packages).';
  } else if (code === 'ENTRY_SCRIPT_INVALID') {
    hint = 'A scoring script defines init() and run(raw) at module level; fix it and deploy again.';
  }
  return new BerthError(code, message, { hint });
}
