import {
  closeSync,
  fdatasyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readSync,
  rmSync,
  statSync,
  writevSync,
} from 'node:fs';
import { dirname } from 'node:path';
import type { InferenceConfig } from '../core/config/inference-config.js';
import { isErrorCode } from '../core/error-catalogue.js';
import { BerthError, toBerthError } from '../core/errors.js';
import type { ServedModel } from '../serving/serve-spec.js';
import {
  type BatchCheckpoint,
  checkpointPathFor,
  commitCheckpoint,
  readCheckpoint,
  writeCheckpoint,
} from './batch-checkpoint.js';
import { BATCH_DEFAULTS, type BatchInputKind, type BatchLog } from './batch-options.js';
import {
  type BatchProgress,
  type BatchStatus,
  type BatchSummary,
  MAX_FAILURE_MESSAGES,
  MAX_MALFORMED_LINES,
} from './batch-summary.js';
import { BatchWorkerProcess, type Chunk } from './batch-worker-process.js';
import { readCsvHeader } from './csv-record.js';
import { FolderMiniBatchPlanner, fileListDigest, listInputFiles } from './folder-mini-batch-planner.js';
import { decodeFileMiniBatch, type InputDescription } from './item-decoder.js';
import { LineMiniBatchPlanner } from './line-mini-batch-planner.js';
import type { InputPosition, MiniBatch } from './mini-batch.js';
import { errorLine } from './output-line.js';
import { packMiniBatches } from './packed-mini-batches.js';
import { type BatchOutcome, outcomesOf, type WorkerInit, type WorkerMessage } from './worker-protocol.js';

/** A batch run with its models resolved to folders and its options complete. */
export interface BatchRunSpec {
  config: InferenceConfig;
  models: ServedModel[];
  /** Absolute paths. */
  input: string;
  inputKind: BatchInputKind;
  output: string;
  miniBatchSize: number;
  workers: number;
  errorThreshold: number;
  resume: boolean;
  limits: { scoringTimeoutMs: number; initTimeoutMs: number };
  onProgress?: (progress: BatchProgress) => void;
  progressIntervalMs: number;
  signal?: AbortSignal;
  log?: BatchLog;
  workerOutput: NodeJS.WritableStream;
  workerLogLevel: string;
  /** Workers forked ahead of time (`prestartBatchWorkers`): adopted first; stopped if the run ends early. */
  prestarted?: BatchWorkerProcess[];
}

type Worker = BatchWorkerProcess;

interface Planner {
  next(): MiniBatch | undefined;
  close(): void;
}

/** Worker chunks being scored at once, per worker (one running, one queued behind it). */
const PREFETCH = 2;
/** Chunks in flight or waiting for their turn to be written, per worker: bounds memory. */
const WINDOW_PER_WORKER = 4;
/** The smallest chunk handed out near the end of a file input (see `chunkByteTarget`). */
const MIN_TAIL_CHUNK_BYTES = 64 * 1024;

/**
 * Runs one batch job: plans mini-batches (byte ranges of the input, or file lists), hands them in
 * chunks to worker processes that parse and score them, and has the output written in input
 * order: as soon as a chunk's output size is known and every chunk before it has an offset, the
 * worker holding it is told where to write it (several writes may be in flight). The prefix of
 * chunks whose writes have landed is committed: every `commitIntervalMs` the output is fsync'd and
 * the checkpoint replaced, so a killed run resumes where its last commit ended: mini-batches
 * already committed are never scored again and the output has no duplicate or missing lines.
 * @throws BATCH_FAILED (too many failed items, workers crashing again and again), INIT_FAILED and
 *   the other load errors of the runtime, PATH_NOT_FOUND, INVALID_ARGUMENT.
 */
export function runBatchJob(spec: BatchRunSpec): Promise<BatchSummary> {
  return new BatchCoordinator(spec).run();
}

class BatchCoordinator {
  private readonly started = performance.now();
  private readonly checkpointPath: string;
  private readonly log: BatchLog | undefined;
  private identity!: BatchCheckpoint['input'];
  private inputDescription!: InputDescription;
  private planner!: Planner;
  private peeked: MiniBatch | undefined;
  private plannerDone = false;
  /** Files: where the last mini-batch taken from the planner ends. */
  private plannedTo = 0;
  /** Bytes before the first data record (CSV header), for the progress fraction. */
  private dataStart = 0;
  private totalItems: number | undefined;

  private outputFd = -1;
  /** Output bytes written and counted: the end of the committed prefix. */
  private writeOffset = 0;
  /** Where the next assigned write goes. */
  private assignOffset = 0;
  /** First mini-batch without an assigned write, and the failures counted through the assigned ones. */
  private assignIndex = 0;
  private assignFailures = 0;
  /** First mini-batch index of the chunk whose write crosses the error threshold: the run stops once it is committed. */
  private stopAt: number | undefined;
  /** Writes in flight that a rewind invalidated: nothing is assigned until they have landed. */
  private readonly staleWrites = new Set<Chunk>();
  private position: InputPosition = { offset: 0, item: 0, line: 1 };
  private items = 0;
  private failures = 0;
  private malformed = 0;
  private malformedLines: number[] = [];
  private firstFailures: string[] = [];
  private resumedFrom = 0;

  private readonly workers = new Set<Worker>();
  private nextWorkerId = 1;
  private crashes = 0;
  private restarts = 0;
  private everReady = false;
  private nextChunkId = 1;
  /** Chunks not yet written, by the index of their first mini-batch. */
  private readonly outstanding = new Map<number, Chunk>();
  /** Chunks whose worker crashed though they were not the culprit: scored again as they are. */
  private readonly redo: Chunk[] = [];
  /** Single mini-batches whose worker crashed while scoring them: retried once, alone on a worker. */
  private readonly retry: Chunk[] = [];
  /** Index of the first mini-batch not yet committed. */
  private nextIndex = 0;
  private batchMs = 0;

  private dirty = false;
  private committing: Promise<void> | undefined;
  private finished = false;
  /** Progress fraction when this run started (a resumed run starts past 0). */
  private startFraction = 0;
  private commitTimer: NodeJS.Timeout | undefined;
  private progressTimer: NodeJS.Timeout | undefined;
  private readonly rateSamples: { at: number; items: number }[] = [];
  private resolve!: (summary: BatchSummary) => void;
  private reject!: (err: unknown) => void;
  private onAbort = (): void => this.finish('interrupted');

  constructor(private readonly spec: BatchRunSpec) {
    this.checkpointPath = checkpointPathFor(spec.output);
    this.log = spec.log;
  }

  run(): Promise<BatchSummary> {
    return new Promise<BatchSummary>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      try {
        if (this.prepare()) this.start();
      } catch (err) {
        this.closeOutput();
        for (const w of this.spec.prestarted?.splice(0) ?? []) w.stop();
        reject(err);
      }
    });
  }

  /** Opens input, output and checkpoint; false when there is nothing left to do (already resolved). */
  private prepare(): boolean {
    const { spec } = this;
    const stat = statSync(spec.input, { throwIfNoEntry: false });
    if (!stat) {
      throw new BerthError('PATH_NOT_FOUND', `Input "${spec.input}" does not exist.`, {
        hint: 'Give a .jsonl or .csv file, or a folder of files, with --input.',
      });
    }
    if ((spec.inputKind === 'folder') !== stat.isDirectory()) {
      throw new BerthError(
        'INVALID_ARGUMENT',
        spec.inputKind === 'folder'
          ? `Input "${spec.input}" is not a folder.`
          : `Input "${spec.input}" is a folder, not a ${spec.inputKind} file.`,
      );
    }
    if (spec.inputKind === 'folder' && spec.config.runtime === 'onnx') {
      throw new BerthError(
        'INVALID_ARGUMENT',
        'A folder of files needs an entry script: the onnx runtime cannot score raw file bytes.',
        {
          hint: 'Use a node or python entry script that decodes each file ({name, bytes}) into the model input.',
        },
      );
    }
    const { input, output } = spec;
    if (output === input || (spec.inputKind === 'folder' && output.startsWith(`${input}/`))) {
      throw new BerthError(
        'INVALID_ARGUMENT',
        `The output "${output}" must not be the input or inside the input folder.`,
      );
    }

    let start: InputPosition = { offset: 0, item: 0, line: 1 };
    let files: string[] = [];
    this.inputDescription = { kind: spec.inputKind, path: input };
    this.identity = { path: input, kind: spec.inputKind, size: stat.size, mtimeMs: stat.mtimeMs };
    if (spec.inputKind === 'folder') {
      files = listInputFiles(input);
      this.totalItems = files.length;
      this.identity = {
        path: input,
        kind: 'folder',
        size: 0,
        mtimeMs: 0,
        fileCount: files.length,
        filesSha256: fileListDigest(files),
      };
    } else if (spec.inputKind === 'csv') {
      const header = readCsvHeader(input);
      this.inputDescription.columns = header.columns;
      start = header.dataStart;
      this.dataStart = header.dataStart.offset;
    }

    try {
      closeSync(openSync(input, 'r'));
    } catch (cause) {
      throw new BerthError(
        'PATH_NOT_FOUND',
        `Cannot read the input "${input}": ${(cause as Error).message}`,
        { cause },
      );
    }
    try {
      mkdirSync(dirname(output), { recursive: true });
    } catch (cause) {
      throw new BerthError(
        'INVALID_ARGUMENT',
        `Cannot create the folder of the output "${output}": ${(cause as Error).message}`,
        {
          hint: 'Give --output a writable file path outside the input.',
          cause,
        },
      );
    }
    const checkpoint = spec.resume ? readCheckpoint(this.checkpointPath) : undefined;
    if (spec.resume && !checkpoint)
      this.log?.warn(
        { checkpoint: this.checkpointPath },
        `no checkpoint at ${this.checkpointPath}: starting from the beginning`,
      );
    if (checkpoint) {
      this.checkSameInput(checkpoint);
      const size = statSync(output, { throwIfNoEntry: false })?.size ?? -1;
      if (size < checkpoint.outputBytes) {
        throw new BerthError(
          'INVALID_ARGUMENT',
          `The output "${output}" has ${Math.max(size, 0)} bytes but its checkpoint counts ${checkpoint.outputBytes}: it was changed after the run stopped.`,
          { hint: 'Run again without --resume to start over.' },
        );
      }
      this.outputFd = openOutput(output, 'r+');
      ftruncateSync(this.outputFd, checkpoint.outputBytes);
      this.writeOffset = checkpoint.outputBytes;
      this.assignOffset = checkpoint.outputBytes;
      this.position = checkpoint.next;
      start = checkpoint.next;
      this.items = checkpoint.items;
      this.failures = checkpoint.failures;
      this.malformed = checkpoint.malformed;
      this.malformedLines = [...checkpoint.malformedLines];
      this.resumedFrom = checkpoint.items;
      this.assignFailures = checkpoint.failures;
      if (checkpoint.state === 'completed') {
        this.finished = true;
        for (const w of this.spec.prestarted?.splice(0) ?? []) w.stop();
        this.closeOutput();
        this.resolve(this.summary('completed'));
        return false;
      }
    } else {
      rmSync(this.checkpointPath, { force: true });
      this.outputFd = openOutput(output, 'w');
      this.position = start;
    }

    this.planner =
      spec.inputKind === 'folder'
        ? new FolderMiniBatchPlanner(files, spec.miniBatchSize, start)
        : new LineMiniBatchPlanner(input, spec.inputKind, spec.miniBatchSize, start);
    this.plannedTo = start.offset;
    this.commit('running');
    return true;
  }

  private checkSameInput(checkpoint: BatchCheckpoint): void {
    const was = checkpoint.input;
    const now = this.identity;
    const same =
      was.path === now.path &&
      was.kind === now.kind &&
      was.size === now.size &&
      was.mtimeMs === now.mtimeMs &&
      was.filesSha256 === now.filesSha256;
    if (!same) {
      throw new BerthError(
        'INVALID_ARGUMENT',
        `The input "${now.path}" is not the one the checkpoint "${this.checkpointPath}" was made for (path, kind, size, modification time or file list differ).`,
        { hint: 'Resume with the same, unchanged input, or run again without --resume to start over.' },
      );
    }
  }

  private start(): void {
    const { spec } = this;
    this.peeked = this.planner.next();
    if (!this.peeked) {
      this.plannerDone = true;
      this.finish('completed');
      return;
    }
    if (spec.signal?.aborted) {
      this.finish('interrupted');
      return;
    }
    spec.signal?.addEventListener('abort', this.onAbort, { once: true });
    this.startFraction = this.fractionDone();
    const prestarted = spec.prestarted?.splice(0) ?? [];
    for (let i = 0; i < spec.workers; i++) this.spawnWorker(prestarted.shift());
    for (const extra of prestarted) extra.stop();
    this.commitTimer = setInterval(() => {
      this.commitInBackground();
      this.watchStalls();
    }, BATCH_DEFAULTS.commitIntervalMs);
    if (spec.onProgress)
      this.progressTimer = setInterval(() => this.emitProgress(false), spec.progressIntervalMs);
  }

  /** Starts a worker (a prestarted one, or a new fork): handlers attached, init sent. */
  private spawnWorker(prestarted?: Worker): void {
    const init: WorkerInit = {
      type: 'init',
      config: this.spec.config,
      models: this.spec.models,
      input: this.inputDescription,
      output: this.spec.output,
      limits: this.spec.limits,
      logLevel: this.spec.workerLogLevel,
    };
    const worker =
      prestarted ??
      new BatchWorkerProcess(this.nextWorkerId, this.spec.workerOutput, this.spec.config.runtime);
    this.nextWorkerId = Math.max(this.nextWorkerId, worker.id) + 1;
    this.workers.add(worker);
    worker.adopt(
      (w, m) => this.onMessage(w, m),
      (w, code, signal) => this.onExit(w, code, signal),
    );
    worker.start(init);
  }

  private onMessage(worker: Worker, message: WorkerMessage): void {
    if (this.finished) return;
    switch (message.type) {
      case 'ready':
        worker.ready = true;
        this.everReady = true;
        this.log?.debug?.({ worker: worker.id, pid: worker.pid, mode: message.mode }, 'batch worker ready');
        this.pump();
        return;
      case 'init-failed': {
        const { code, message: text, hint } = message.error;
        const err = new BerthError(isErrorCode(code) ? code : 'INIT_FAILED', text, { hint });
        this.finish('failed', err);
        return;
      }
      case 'scored': {
        const chunk = worker.chunks.find((c) => c.id === message.id);
        if (!chunk) return;
        chunk.state = 'scored';
        chunk.outcomes = outcomesOf(message);
        const perBatch = message.busyMs / Math.max(1, message.bytes.length);
        // a worker's first chunk pays for warming up (JIT, first inference): it does not say how fast it goes
        if (worker.scoredChunks++ > 0 || this.batchMs === 0) {
          this.batchMs =
            this.batchMs === 0 || worker.scoredChunks === 2 ? perBatch : (this.batchMs + perBatch) / 2;
        }
        this.assignWrites();
        this.pump();
        return;
      }
      case 'written': {
        const chunk = worker.chunks.find((c) => c.id === message.id);
        if (!chunk) return;
        worker.chunks.splice(worker.chunks.indexOf(chunk), 1);
        if (chunk.state === 'stale') {
          this.staleWrites.delete(chunk);
          this.assignWrites();
        } else if (chunk.state === 'writing') {
          chunk.state = 'written';
          this.commitPrefix();
        }
        this.pump();
        return;
      }
      case 'failed':
        this.log?.warn(
          { worker: worker.id, error: message.error },
          `worker ${worker.id} failed (${message.error.message}); it will be replaced`,
        );
        return;
    }
  }

  private onExit(worker: Worker, code: number | null, signal: NodeJS.Signals | null): void {
    this.workers.delete(worker);
    if (this.finished || worker.stopping) return;
    this.crashes++;
    const why = signal ? `signal ${signal}` : `exit code ${code}`;
    const suspect = worker.chunks.find((c) => c.state === 'sent');
    this.log?.warn(
      { worker: worker.id, pid: worker.pid, why, chunks: worker.chunks.length },
      `worker ${worker.id} (pid ${worker.pid}) crashed (${why}); its work is scored again`,
    );
    const lostWrite = worker.chunks.some((c) => c.state === 'writing');
    for (const chunk of worker.chunks) {
      if (chunk.state === 'stale') {
        this.staleWrites.delete(chunk);
        continue;
      }
      if (chunk === suspect) this.retryAfterCrash(chunk, why);
      else if (chunk.state !== 'writing') this.requeue(chunk);
    }
    worker.chunks.length = 0;
    if (lostWrite) this.rewind();
    if (
      this.crashes > BATCH_DEFAULTS.maxWorkerCrashes ||
      (!this.everReady && this.crashes >= Math.max(2, this.spec.workers))
    ) {
      const err = new BerthError(
        'BATCH_FAILED',
        this.everReady
          ? `Batch run stopped: worker processes crashed ${this.crashes} times (last: ${why}).`
          : `Batch run stopped: worker processes exited while loading the model (${why}).`,
        {
          hint: 'Run the entry script in a service (berth serve) to see why it crashes; continue with --resume once fixed.',
        },
      );
      this.finish('failed', err);
      return;
    }
    this.restarts++;
    this.spawnWorker();
    this.assignWrites();
    this.pump();
  }

  /** A worker with work that has not been heard of for `stallTimeoutMs` is hung: killed, then handled as a crash. */
  private watchStalls(): void {
    const now = performance.now();
    for (const w of this.workers) {
      if (w.ready && w.scoring > 0 && now - w.lastHeard > BATCH_DEFAULTS.stallTimeoutMs) {
        this.log?.warn(
          { worker: w.id, pid: w.pid },
          `worker ${w.id} (pid ${w.pid}) sent nothing for ${BATCH_DEFAULTS.stallTimeoutMs / 1000} s; killing it`,
        );
        w.lastHeard = now;
        w.child.kill('SIGKILL');
      }
    }
  }

  /** Puts a chunk back to be scored again as it is (a fresh object: the old one may still get a stale reply). */
  private requeue(chunk: Chunk): void {
    const again: Chunk = {
      id: 0,
      batches: chunk.batches,
      attempt: chunk.attempt,
      isolated: chunk.isolated,
      state: 'queued',
    };
    this.outstanding.set(chunk.batches[0].index, again);
    const queue = chunk.isolated ? this.retry : this.redo;
    queue.push(again);
    queue.sort((a, b) => a.batches[0].index - b.batches[0].index);
  }

  /**
   * A write was lost with its worker: every write assigned past the committed prefix is redone at
   * new offsets (their bytes are no longer held anywhere). Writes still in flight on live workers
   * become stale, and nothing new is assigned until they have landed, so no old byte lands on a new one.
   */
  private rewind(): void {
    for (const chunk of [...this.outstanding.values()]) {
      if (chunk.state !== 'writing' && chunk.state !== 'written') continue;
      if (chunk.state === 'writing' && chunk.worker && this.workers.has(chunk.worker)) {
        chunk.state = 'stale';
        this.staleWrites.add(chunk);
      } else if (chunk.worker) {
        const held = chunk.worker.chunks.indexOf(chunk);
        if (held >= 0) chunk.worker.chunks.splice(held, 1);
      }
      if (!chunk.localLines) this.requeue(chunk);
      else {
        chunk.state = 'scored';
        this.outstanding.set(chunk.batches[0].index, chunk);
      }
    }
    this.assignOffset = this.writeOffset;
    this.assignIndex = this.nextIndex;
    this.assignFailures = this.failures;
    this.stopAt = undefined;
  }

  /**
   * The chunk its worker was scoring when it crashed. Several mini-batches: each is scored again
   * alone (isolated), to find the one at fault. One mini-batch: retried once, alone; when its worker
   * dies again, its items are marked failed and the run goes on.
   */
  private retryAfterCrash(chunk: Chunk, why: string): void {
    this.outstanding.delete(chunk.batches[0].index);
    if (chunk.batches.length > 1 || chunk.attempt === 1) {
      const attempt = chunk.batches.length > 1 ? 1 : 2;
      for (const batch of chunk.batches) {
        const single: Chunk = { id: 0, batches: [batch], attempt, isolated: true, state: 'queued' };
        this.outstanding.set(batch.index, single);
        this.retry.push(single);
      }
      this.retry.sort((a, b) => a.batches[0].index - b.batches[0].index);
      return;
    }
    const batch = chunk.batches[0];
    const message = `The worker process crashed (${why}) while scoring this mini-batch, also when retried; its items are marked failed.`;
    const lines = this.crashLines(batch, message);
    chunk.worker = undefined;
    chunk.localLines = [lines];
    chunk.outcomes = [
      { bytes: lines.length, items: batch.count, failures: batch.count, malformed: [], firstError: message },
    ];
    chunk.state = 'scored';
    this.outstanding.set(batch.index, chunk);
  }

  /** Error lines for every item of a mini-batch, made by the coordinator. */
  private crashLines(batch: MiniBatch, message: string): Buffer {
    const error = { code: 'SCORING_FAILED', message };
    if (batch.files) return Buffer.from(batch.files.map((file) => errorLine({ file }, error)).join(''));
    const fd = openSync(this.spec.input, 'r');
    try {
      const buf = Buffer.allocUnsafe(batch.end - batch.start);
      readSync(fd, buf, 0, buf.length, batch.start);
      const { items } = decodeFileMiniBatch(buf, batch.start, batch, this.inputDescription, {
        flatRows: true,
      });
      return Buffer.from(items.map((item) => errorLine(item, error)).join(''));
    } finally {
      closeSync(fd);
    }
  }

  /** Hands out work: retried mini-batches alone to idle workers, then re-dos, then new chunks within the window. */
  private pump(): void {
    if (this.finished) return;
    for (const worker of this.workers) {
      if (!worker.ready || worker.stopping) continue;
      for (;;) {
        if (worker.chunks.some((c) => c.isolated && c.state === 'sent')) break;
        if (this.retry.length > 0 && worker.scoring === 0) {
          this.send(worker, this.retry.shift() as Chunk);
          break;
        }
        if (worker.scoring >= PREFETCH) break;
        const chunk = this.redo.shift() ?? this.newChunk();
        if (!chunk) break;
        this.send(worker, chunk);
      }
    }
    this.checkDone();
  }

  private send(worker: Worker, chunk: Chunk): void {
    if (worker.scoring === 0) worker.lastHeard = performance.now();
    chunk.id = this.nextChunkId++;
    chunk.state = 'sent';
    chunk.worker = worker;
    worker.chunks.push(chunk);
    worker.send({ type: 'chunk', id: chunk.id, batches: packMiniBatches(chunk.batches) });
  }

  /** The next chunk from the planner: about `chunkBytes` of input or `chunkMs` of scoring; undefined when the window is full or the input ends. */
  private newChunk(): Chunk | undefined {
    if (this.plannerDone || this.outstanding.size >= WINDOW_PER_WORKER * this.spec.workers) return undefined;
    const maxBatches = this.batchMs > 0 ? Math.max(1, Math.floor(BATCH_DEFAULTS.chunkMs / this.batchMs)) : 1;
    const batches: MiniBatch[] = [];
    const maxBytes = this.chunkByteTarget();
    let bytes = 0;
    while (batches.length < maxBatches && bytes < maxBytes) {
      const batch = this.peeked ?? this.planner.next();
      this.peeked = undefined;
      if (!batch) {
        this.plannerDone = true;
        this.planner.close();
        break;
      }
      batches.push(batch);
      bytes += batch.end - batch.start;
      this.plannedTo = batch.end;
    }
    if (batches.length === 0) return undefined;
    const chunk: Chunk = { id: 0, batches, attempt: 1, state: 'queued' };
    this.outstanding.set(batches[0].index, chunk);
    return chunk;
  }

  /**
   * Input bytes for the next chunk: `chunkBytes`, tapering over the last few of them so that the
   * workers run out of work together, instead of one scoring its last megabytes while the others
   * wait. (Folders have no byte ranges: their chunks are cut by time alone.)
   */
  private chunkByteTarget(): number {
    const remaining = this.identity.size - this.plannedTo;
    const share = Math.floor(remaining / (this.spec.workers * PREFETCH));
    return Math.max(MIN_TAIL_CHUNK_BYTES, Math.min(BATCH_DEFAULTS.chunkBytes, share));
  }

  /**
   * Assigns output offsets to the scored chunks that come next in input order, as soon as their
   * sizes are known, and sends the write orders (several can be in flight). The error threshold is
   * checked here, in input order, so the run stops at the same item however the work was spread.
   */
  private assignWrites(): void {
    while (!this.finished && this.stopAt === undefined && this.staleWrites.size === 0) {
      const chunk = this.outstanding.get(this.assignIndex);
      if (chunk?.state !== 'scored' || !chunk.outcomes) break;
      const outcomes = chunk.outcomes;
      let count = chunk.batches.length;
      let stop = false;
      let failures = this.assignFailures;
      let bytes = 0;
      for (let j = 0; j < outcomes.length; j++) {
        failures += outcomes[j].failures;
        bytes += outcomes[j].bytes;
        if (this.spec.errorThreshold >= 0 && failures > this.spec.errorThreshold) {
          count = j + 1;
          stop = true;
          break;
        }
      }
      chunk.writeCount = count;
      chunk.offset = this.assignOffset;
      chunk.writeBytes = bytes;
      this.assignOffset += bytes;
      this.assignFailures = failures;
      this.assignIndex = chunk.batches[count - 1].index + 1;
      if (stop) this.stopAt = chunk.batches[0].index;
      if (chunk.localLines) {
        const buffers = chunk.localLines.slice(0, count);
        if (bytes > 0) writevSync(this.outputFd, buffers, chunk.offset);
        chunk.state = 'written';
      } else {
        chunk.state = 'writing';
        chunk.worker?.send({ type: 'write', id: chunk.id, offset: chunk.offset, batches: count });
      }
    }
    this.commitPrefix();
  }

  /** Counts the chunks whose writes have landed, in input order, up to the first one still in flight. */
  private commitPrefix(): void {
    for (;;) {
      if (this.finished) return;
      const chunk = this.outstanding.get(this.nextIndex);
      if (chunk?.state !== 'written') break;
      const count = chunk.writeCount ?? chunk.batches.length;
      const outcomes = chunk.outcomes as BatchOutcome[];
      for (let j = 0; j < count; j++) this.account(outcomes[j]);
      this.writeOffset = (chunk.offset ?? 0) + (chunk.writeBytes ?? 0);
      const last = chunk.batches[count - 1];
      this.position =
        this.spec.inputKind === 'folder'
          ? { offset: 0, item: last.firstItem + last.count, line: 0 }
          : { offset: last.end, item: last.firstItem + last.count, line: last.endLine };
      this.outstanding.delete(chunk.batches[0].index);
      this.nextIndex = last.index + 1;
      this.dirty = true;
      if (this.stopAt === chunk.batches[0].index) {
        const threshold = this.spec.errorThreshold;
        const err = new BerthError(
          'BATCH_FAILED',
          `Batch run stopped: ${this.failures} items failed, more than --error-threshold ${threshold}. First failures: ${this.firstFailures.slice(0, 3).join(' | ')}`,
          {
            hint: `The failed items have an "error" in ${this.spec.output}. Fix them or raise --error-threshold, then continue with --resume.`,
          },
        );
        this.finish('failed', err);
        return;
      }
    }
    this.checkDone();
  }

  private account(outcome: BatchOutcome): void {
    this.items += outcome.items;
    this.failures += outcome.failures;
    this.malformed += outcome.malformed.length;
    for (const m of outcome.malformed) {
      if (this.malformedLines.length < MAX_MALFORMED_LINES && m.line !== undefined)
        this.malformedLines.push(m.line);
    }
    if (this.firstFailures.length < MAX_FAILURE_MESSAGES && outcome.failures > 0) {
      const messages = outcome.malformed.map((m) => m.message);
      if (outcome.firstError && !messages.includes(outcome.firstError)) messages.push(outcome.firstError);
      this.firstFailures.push(...messages.slice(0, MAX_FAILURE_MESSAGES - this.firstFailures.length));
    }
  }

  private checkDone(): void {
    if (!this.finished && this.plannerDone && this.outstanding.size === 0 && this.staleWrites.size === 0)
      this.finish('completed');
  }

  /** What the checkpoint says now. */
  private checkpoint(state: BatchCheckpoint['state']): BatchCheckpoint {
    return {
      version: 1,
      state,
      input: this.identity,
      miniBatchSize: this.spec.miniBatchSize,
      outputBytes: this.writeOffset,
      next: this.position,
      items: this.items,
      failures: this.failures,
      malformed: this.malformed,
      malformedLines: [...this.malformedLines],
      updatedAt: new Date().toISOString(),
    };
  }

  /** fsyncs the output and replaces the checkpoint, now, on the event loop (start and end of a run). */
  private commit(state: BatchCheckpoint['state']): void {
    if (this.outputFd >= 0) fdatasyncSync(this.outputFd);
    writeCheckpoint(this.checkpointPath, this.checkpoint(state));
    this.dirty = false;
  }

  /**
   * The periodic commit, off the event loop so that workers keep getting write orders while the
   * disk syncs: a snapshot of the state, then fsync of the output, then the checkpoint. One at a time.
   */
  private commitInBackground(): void {
    if (this.committing || !this.dirty || this.finished) return;
    const snapshot = this.checkpoint('running');
    this.dirty = false;
    this.committing = commitCheckpoint(this.outputFd, this.checkpointPath, snapshot)
      .catch((err: unknown) => {
        this.dirty = true;
        this.log?.warn({ err }, `the checkpoint could not be written (${(err as Error).message}); retrying`);
      })
      .finally(() => {
        this.committing = undefined;
      });
  }

  /** Stops the workers, waits for them (so no late write lands), truncates stray bytes, commits, settles. */
  private finish(status: BatchStatus, error?: BerthError): void {
    if (this.finished) return;
    this.finished = true;
    for (const w of this.spec.prestarted?.splice(0) ?? []) w.stop();
    clearInterval(this.commitTimer);
    clearInterval(this.progressTimer);
    this.spec.signal?.removeEventListener('abort', this.onAbort);
    // a completed run (or one stopped by the threshold) has no write in flight: no need to wait for exits
    const inFlight = status === 'interrupted' || (error !== undefined && this.stopAt === undefined);
    const exits = [...this.workers]
      .filter(() => inFlight)
      .map(
        (w) =>
          new Promise<void>((resolve) =>
            w.child.exitCode !== null || w.child.signalCode !== null
              ? resolve()
              : w.child.once('exit', () => resolve()),
          ),
      );
    for (const w of this.workers) w.stop();
    this.planner?.close();
    void Promise.all([...exits, this.committing]).then(() => {
      try {
        if (this.outputFd >= 0) ftruncateSync(this.outputFd, this.writeOffset);
        this.commit(status);
      } catch (err) {
        error ??= toBerthError(err);
      }
      this.closeOutput();
      const summary = this.summary(status);
      this.emitProgress(true);
      if (error) {
        const details = (error.details ?? {}) as Record<string, unknown>;
        details.summary = summary;
        this.reject(
          new BerthError(error.code, error.message, { hint: error.hint, cause: error.cause, details }),
        );
      } else {
        this.resolve(summary);
      }
    });
  }

  private closeOutput(): void {
    if (this.outputFd >= 0) closeSync(this.outputFd);
    this.outputFd = -1;
  }

  private summary(status: BatchStatus): BatchSummary {
    const durationMs = Math.round(performance.now() - this.started);
    const scored = this.items - this.resumedFrom;
    return {
      status,
      input: this.spec.input,
      inputKind: this.spec.inputKind,
      output: this.spec.output,
      checkpoint: this.checkpointPath,
      items: this.items,
      succeeded: this.items - this.failures,
      failures: this.failures,
      malformed: this.malformed,
      malformedLines: this.malformedLines,
      firstFailures: this.firstFailures,
      resumedFrom: this.resumedFrom,
      durationMs,
      seconds: Math.round(durationMs / 10) / 100,
      itemsPerSecond: durationMs > 0 ? Math.round((scored * 1000) / durationMs) : 0,
      workers: this.spec.workers,
      miniBatchSize: this.spec.miniBatchSize,
      workerRestarts: this.restarts,
      errorThreshold: this.spec.errorThreshold,
    };
  }

  /** Share of the input written: by bytes for files, by items for folders. */
  private fractionDone(): number {
    if (this.totalItems !== undefined) return this.totalItems === 0 ? 1 : this.items / this.totalItems;
    const size = this.identity.size - this.dataStart;
    return size <= 0 ? 1 : (this.position.offset - this.dataStart) / size;
  }

  private emitProgress(done: boolean): void {
    const onProgress = this.spec.onProgress;
    if (!onProgress) return;
    const now = performance.now();
    this.rateSamples.push({ at: now, items: this.items });
    while (this.rateSamples.length > 2 && now - this.rateSamples[0].at > 5000) this.rateSamples.shift();
    const first = this.rateSamples[0];
    const rate = now - first.at > 0 ? ((this.items - first.items) * 1000) / (now - first.at) : 0;
    let fraction = this.fractionDone();
    if (done && this.plannerDone && this.outstanding.size === 0) fraction = 1;
    let etaSeconds: number | undefined;
    const elapsedMs = now - this.started;
    const doneThisRun = fraction - this.startFraction;
    if (!done && fraction < 1 && doneThisRun > 0 && elapsedMs > 1000) {
      etaSeconds = (elapsedMs / 1000) * ((1 - fraction) / doneThisRun);
    }
    try {
      onProgress({
        items: this.items,
        failures: this.failures,
        itemsPerSecond: Math.round(rate),
        fraction: Math.min(1, Math.max(0, fraction)),
        etaSeconds: etaSeconds === undefined ? undefined : Math.round(etaSeconds),
        elapsedMs: Math.round(elapsedMs),
        totalItems: this.totalItems,
        done,
      });
    } catch (err) {
      this.log?.warn({ err }, `onProgress threw: ${(err as Error).message}`);
    }
  }
}

/** Opens the output file; a failure (no permission, a folder in the way) names the file. */
function openOutput(path: string, flags: 'w' | 'r+'): number {
  try {
    return openSync(path, flags);
  } catch (cause) {
    throw new BerthError(
      'INVALID_ARGUMENT',
      `Cannot write the output "${path}": ${(cause as Error).message}`,
      {
        hint: 'Give --output a writable file path outside the input.',
        cause,
      },
    );
  }
}
