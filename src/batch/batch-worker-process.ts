import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { MiniBatch } from './mini-batch.js';
import type { BatchOutcome, CoordinatorMessage, WorkerInit, WorkerMessage } from './worker-protocol.js';

/** A group of consecutive mini-batches handed to one worker, and what became of it. */
export interface Chunk {
  /** Fresh for every dispatch. */
  id: number;
  batches: MiniBatch[];
  /** 2 once retried after its worker crashed while scoring it. */
  attempt: 1 | 2;
  /** Scored alone on a worker, so that a crash is known to be its own (after a crash of a bigger chunk). */
  isolated?: boolean;
  /**
   * queued → sent (to a worker) → scored (held by it) → writing (offset assigned) → written (in the
   * file, not yet committed); `stale`: a write in flight that a rewind invalidated.
   */
  state: 'queued' | 'sent' | 'scored' | 'writing' | 'written' | 'stale';
  worker?: BatchWorkerProcess;
  outcomes?: BatchOutcome[];
  /** Output lines made by the coordinator itself (items failed because their worker kept crashing). */
  localLines?: Buffer[];
  /** Mini-batches the write covers (fewer than all when the error threshold stops the run inside it). */
  writeCount?: number;
  /** Where its write goes and how many bytes it is. */
  offset?: number;
  writeBytes?: number;
}

const SELF = import.meta.url;
const WORKER_SCRIPT = fileURLToPath(
  new URL(`./batch-worker-main${SELF.endsWith('.ts') ? '.ts' : '.js'}`, SELF),
);

type MessageHandler = (worker: BatchWorkerProcess, message: WorkerMessage) => void;
type ExitHandler = (worker: BatchWorkerProcess, code: number | null, signal: NodeJS.Signals | null) => void;

/**
 * One worker process of a batch run (child_process.fork: a crash, a native fault or an entry
 * script calling process.exit takes down only that worker). Its stdout/stderr (entry-script
 * prints, logs) are forwarded to `output`.
 *
 * Forking and starting are separate so that workers can boot (node, modules, onnxruntime for
 * `preload: "onnx"`) while the coordinator still reads its config and resolves models:
 * `adopt` attaches the coordinator's handlers, `start` sends the init message.
 */
export class BatchWorkerProcess {
  readonly child: ChildProcess;
  ready = false;
  /** Set when the coordinator stops it, so its exit is no crash. */
  stopping = false;
  /** Chunks sent to it and not yet written, in the order sent. */
  readonly chunks: Chunk[] = [];
  /** When it last sent a message (or was given work while idle): the stall watchdog reads it. */
  lastHeard = performance.now();
  /** Chunks it has scored (the first one is slow: warm-up). */
  scoredChunks = 0;
  private onMessage: MessageHandler = () => {};
  private onExit: ExitHandler = () => {};
  private exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  constructor(
    readonly id: number,
    output: NodeJS.WritableStream,
    preload?: string,
  ) {
    // the coordinator's flags, but not its debugger port (a worker would fail to open it again)
    const execArgv = process.execArgv.filter((a) => !a.startsWith('--inspect'));
    if (WORKER_SCRIPT.endsWith('.ts') && !execArgv.some((a) => a.includes('tsx')))
      execArgv.push('--import', 'tsx');
    // its own process group: a terminal's Ctrl-C reaches only the coordinator, which stops the run in
    // order, and not the worker or the python processes of its runtime (they would fail items meanwhile)
    this.child = fork(WORKER_SCRIPT, preload ? [preload] : [], {
      execArgv,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      detached: true,
    });
    // Forwarded chunk by chunk rather than piped: a pipe adds its listeners to `output` (usually
    // process.stderr) until the child's stream ends, so concurrent jobs in one process, or a worker
    // whose python children keep its pipe open, pile them up there (MaxListenersExceededWarning).
    const forward = (chunk: Buffer): void => {
      output.write(chunk);
    };
    this.child.stdout?.on('data', forward);
    this.child.stderr?.on('data', forward);
    this.child.on('message', (m: WorkerMessage) => {
      this.lastHeard = performance.now();
      this.onMessage(this, m);
    });
    this.child.once('exit', (code, signal) => {
      this.exited = { code, signal };
      this.onExit(this, code, signal);
    });
    // a worker that died before reading its init message: 'exit' reports it
    this.child.on('error', () => {});
  }

  /** Routes its messages and its exit to the coordinator (an exit that already happened is reported now). */
  adopt(onMessage: MessageHandler, onExit: ExitHandler): void {
    this.onMessage = onMessage;
    this.onExit = onExit;
    if (this.exited)
      queueMicrotask(() => onExit(this, this.exited?.code ?? null, this.exited?.signal ?? null));
  }

  /** Sends the init message: the worker loads the runtime and answers `ready` (or `init-failed`). */
  start(init: WorkerInit): void {
    this.send(init);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Chunks sent and not yet scored (running or queued in the worker). */
  get scoring(): number {
    let n = 0;
    for (const c of this.chunks) if (c.state === 'sent') n++;
    return n;
  }

  send(message: CoordinatorMessage): void {
    if (this.child.connected) this.child.send(message, undefined, {}, () => {});
  }

  /** Disconnects it (the worker closes its runtime and exits); kills it if it is still there after `graceMs`. */
  stop(graceMs = 2000): void {
    this.stopping = true;
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    if (this.child.connected) this.child.disconnect();
    setTimeout(() => {
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    }, graceMs).unref();
  }
}

/** Forks `count` workers ahead of time; `preload` names the runtime they can load while waiting for init. */
export function prestartBatchWorkers(
  count: number,
  output: NodeJS.WritableStream,
  preload?: string,
): BatchWorkerProcess[] {
  return Array.from({ length: count }, (_, i) => new BatchWorkerProcess(i + 1, output, preload));
}
