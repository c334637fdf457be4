import { EventEmitter } from 'node:events';
import { readFileSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import type { InferenceConfig, RuntimeName } from '../core/config/inference-config.js';
import { BerthError } from '../core/errors.js';
import {
  BATCH_DEFAULTS,
  type BatchInputKind,
  type BatchRunOptions,
  checkBatchNumbers,
  defaultWorkerCount,
} from './batch-options.js';
import type { BatchProgress, BatchSummary } from './batch-summary.js';
import { prestartBatchWorkers } from './batch-worker-process.js';
import type { BatchWorkspace } from './resolve-batch-models.js';

/**
 * Offline batch scoring of a large input with the same models and entry script a service uses
 * (the SDK's face of `berth batch run`). Items are scored in parallel by worker processes (one
 * per core by default); the output is JSON Lines in input order; an interrupted run continues with
 * `resume: true` from its checkpoint.
 *
 * @example
 * ```ts
 * import { BatchJob, Workspace } from 'berth';
 * const ws = Workspace.open('./.berth');
 * const summary = await BatchJob.run(ws, {
 *   models: ['iris:1'], inferenceConfig: 'inferenceconfig.json',
 *   input: 'rows.jsonl', output: 'predictions.jsonl',
 *   onProgress: (p) => console.log(`${p.items} items, ${p.itemsPerSecond}/s`),
 * });
 * console.log(summary.items, summary.failures);
 * ```
 */
export class BatchJob extends EventEmitter<{ progress: [BatchProgress] }> {
  /** Settles with the summary (or rejects with the run's BerthError). */
  readonly result: Promise<BatchSummary>;
  private readonly controller = new AbortController();

  private constructor(ws: BatchWorkspace | undefined, options: BatchRunOptions) {
    super();
    const signal = options.signal
      ? AbortSignal.any([options.signal, this.controller.signal])
      : this.controller.signal;
    this.result = runJob(ws, {
      ...options,
      signal,
      onProgress: (p) => {
        options.onProgress?.(p);
        this.emit('progress', p);
      },
    });
  }

  /**
   * Runs a batch job to its end.
   * @param ws the workspace holding `options.models`; may be undefined when only `modelDirs` are used.
   * @returns the summary (status `completed`, or `interrupted` after `signal` aborted).
   * @throws BerthError BATCH_FAILED (more failed items than `errorThreshold`, workers crashing again and
   *   again; `details.summary` has the counts), INIT_FAILED, ENTRY_SCRIPT_NOT_FOUND, ENTRY_SCRIPT_INVALID,
   *   INVALID_CONFIG, INVALID_ARGUMENT, PATH_NOT_FOUND, MODEL_NOT_FOUND.
   */
  static run(ws: BatchWorkspace | undefined, options: BatchRunOptions): Promise<BatchSummary> {
    return runJob(ws, options);
  }

  /** Starts a batch job and returns at once: listen to `progress` events, await `result`, or `cancel()`. */
  static start(ws: BatchWorkspace | undefined, options: BatchRunOptions): BatchJob {
    return new BatchJob(ws, options);
  }

  /** Stops the run after committing what is finished; `result` resolves with status `interrupted`. */
  cancel(): void {
    this.controller.abort();
  }
}

async function runJob(ws: BatchWorkspace | undefined, options: BatchRunOptions): Promise<BatchSummary> {
  checkBatchNumbers(options);
  if (!options.input)
    throw new BerthError('INVALID_ARGUMENT', 'An input is required (a .jsonl or .csv file, or a folder).');
  if (!options.output) throw new BerthError('INVALID_ARGUMENT', 'An output file is required.');
  const refs = options.models ?? [];
  const dirs = options.modelDirs ?? [];
  if (refs.length + dirs.length === 0) {
    throw new BerthError('INVALID_ARGUMENT', 'No model given.', {
      hint: 'Name at least one model: -m NAME:VERSION (or --model-dir DIR).',
    });
  }
  const workers = options.workers ?? defaultWorkerCount();
  const workerOutput = options.workerOutput ?? process.stderr;
  // Workers boot (node, modules, onnxruntime) while the config is validated and models resolved.
  const prestarted = prestartBatchWorkers(workers, workerOutput, runtimeHint(options.inferenceConfig));
  try {
    const config = await inferenceConfigOf(options.inferenceConfig);
    const input = resolve(options.input);
    const inputKind = options.inputKind ?? detectInputKind(input);
    const { resolveBatchModels } = await import('./resolve-batch-models.js');
    const resolved = await resolveBatchModels(ws, refs, dirs);
    try {
      const { runBatchJob } = await import('./batch-coordinator.js');
      return await runBatchJob({
        config,
        models: resolved.models,
        input,
        inputKind,
        output: resolve(options.output),
        miniBatchSize: options.miniBatchSize ?? BATCH_DEFAULTS.miniBatchSize,
        workers,
        errorThreshold: options.errorThreshold ?? BATCH_DEFAULTS.errorThreshold,
        resume: options.resume ?? false,
        limits: {
          scoringTimeoutMs: BATCH_DEFAULTS.scoringTimeoutMs,
          initTimeoutMs: BATCH_DEFAULTS.initTimeoutMs,
        },
        onProgress: options.onProgress,
        progressIntervalMs: options.progressIntervalMs ?? BATCH_DEFAULTS.progressIntervalMs,
        signal: options.signal,
        log: options.log,
        workerOutput,
        workerLogLevel: options.log?.level ?? 'warn',
        prestarted,
      });
    } finally {
      resolved.cleanup();
    }
  } finally {
    // the coordinator takes the ones it uses; any left (an error before it started) go
    for (const w of prestarted) w.stop();
  }
}

async function inferenceConfigOf(value: string | InferenceConfig | undefined): Promise<InferenceConfig> {
  // the default needs no validation (and so no schema compiler: a faster start)
  if (value === undefined) return Object.freeze({ runtime: 'onnx' });
  const { loadInferenceConfig, parseInferenceConfig } = await import('../core/config/inference-config.js');
  if (typeof value === 'string') return loadInferenceConfig(value);
  // an object (the SDK's InferenceConfig, or plain): validated, relative paths against the current folder
  const plain = Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
  return parseInferenceConfig(plain, process.cwd(), 'inferenceConfig');
}

/** The runtime a config will name, read cheaply before it is validated (workers preload it); a guess. */
function runtimeHint(value: string | InferenceConfig | undefined): RuntimeName | undefined {
  if (value === undefined) return 'onnx';
  let raw: { runtime?: unknown; entryScript?: unknown } = typeof value === 'string' ? {} : value;
  if (typeof value === 'string') {
    try {
      raw = JSON.parse(readFileSync(value, 'utf8'));
    } catch {
      return undefined;
    }
  }
  if (raw.runtime === 'onnx' || raw.runtime === 'node' || raw.runtime === 'python') return raw.runtime;
  if (typeof raw.entryScript !== 'string') return 'onnx';
  return extname(raw.entryScript).toLowerCase() === '.py' ? 'python' : 'node';
}

/** folder → folder, `*.csv` → csv, anything else → jsonl. */
export function detectInputKind(input: string): BatchInputKind {
  if (statSync(input, { throwIfNoEntry: false })?.isDirectory()) return 'folder';
  return extname(input).toLowerCase() === '.csv' ? 'csv' : 'jsonl';
}
