import cluster, { type Worker } from 'node:cluster';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Young-generation semi-space of onnx workers, in MB (see workerExecArgv). */
const SEMI_SPACE_MB = 8;

/** The module a worker process runs (worker-main.js next to this file, .ts under tsx). */
export function defaultWorkerEntry(): string {
  const self = fileURLToPath(import.meta.url);
  return fileURLToPath(new URL(`./worker-main${extname(self)}`, import.meta.url));
}

/**
 * Node flags of a worker: the primary's, plus, for the onnx runtime, a young generation of 8 MB
 * semi-spaces (V8's default lets them grow to 16 MB under load): a replica serving the
 * 784-256-128-10 MLP holds ~14 MB less resident memory (139 -> 125 MB) at the same throughput. Node
 * entry scripts keep V8's default (the echo benchmark looked slower with 8 MB, within noise).
 * A `--max-semi-space-size` of the user's own (NODE_OPTIONS or the command line) wins.
 */
export function workerExecArgv(
  execArgv: readonly string[],
  nodeOptions: string | undefined,
  runtime: string | undefined,
): string[] {
  const given = [...execArgv, nodeOptions ?? ''].some((a) => /--max[-_]semi[-_]space[-_]size/.test(a));
  if (given || runtime !== 'onnx') return [...execArgv];
  return [...execArgv, `--max-semi-space-size=${SEMI_SPACE_MB}`];
}

/** A worker forked ahead of time, and what it said before the supervisor took it. */
export interface PreforkedWorker {
  worker: Worker;
  /** Messages (with their handles) that arrived before the supervisor listened: replay them. */
  messages: [message: unknown, handle: unknown][];
}

interface Spare extends PreforkedWorker {
  exec: string;
  execArgv: string[];
  keep(message: unknown, handle: unknown): void;
}

let spare: Spare | undefined;

/**
 * Forks the first replica's worker process now, before the primary has its spec and its port: node's
 * start and the worker's imports (~150-250 ms) then overlap the CLI's own start and config
 * validation instead of following them. The supervisor takes it for its first replica
 * (`takePreforkedWorker`). It does not keep this process alive; unused, it is killed by
 * `discardPreforkedWorker` or leaves by itself when this process exits (its IPC channel closes).
 */
export function preforkWorker(exec: string, execArgv: string[]): Worker | undefined {
  if (spare !== undefined || !cluster.isPrimary) return undefined;
  cluster.setupPrimary({ exec, args: [], silent: false, execArgv });
  const worker = cluster.fork();
  const messages: [unknown, unknown][] = [];
  const keep = (message: unknown, handle: unknown): void => {
    messages.push([message, handle]);
  };
  worker.on('message', keep);
  worker.on('error', () => {});
  worker.process.unref();
  worker.process.channel?.unref();
  spare = { worker, messages, exec, execArgv, keep };
  return worker;
}

/**
 * The worker `preforkWorker` started, when it runs `exec` with `execArgv` and is still connected
 * (otherwise it is killed and undefined is returned: the caller forks a fresh one).
 */
export function takePreforkedWorker(exec: string, execArgv: readonly string[]): PreforkedWorker | undefined {
  const s = spare;
  spare = undefined;
  if (s === undefined) return undefined;
  s.worker.off('message', s.keep);
  const same = s.exec === exec && s.execArgv.join('\0') === execArgv.join('\0');
  if (!same || s.worker.isDead() || !s.worker.isConnected()) {
    s.worker.process.kill('SIGKILL');
    return undefined;
  }
  s.worker.process.ref();
  s.worker.process.channel?.ref();
  return { worker: s.worker, messages: s.messages };
}

/** Kills a preforked worker nobody took (the server could not start). */
export function discardPreforkedWorker(): void {
  const s = spare;
  spare = undefined;
  s?.worker.process.kill('SIGKILL');
}
