import { availableParallelism } from 'node:os';
import type { InferenceConfig } from '../core/config/inference-config.js';
import { BerthError } from '../core/errors.js';
import type { BatchProgress } from './batch-summary.js';

/** What a batch run reads: a JSON Lines file, a CSV file with a header row, or a folder of files. */
export type BatchInputKind = 'jsonl' | 'csv' | 'folder';

/**
 * What a batch run logs to: a pino logger fits; the CLI passes one that prints short lines.
 * `level` (default "warn") is also the log level of the worker processes.
 */
export interface BatchLog {
  warn(fields: Record<string, unknown>, message: string): void;
  debug?(fields: Record<string, unknown>, message: string): void;
  level?: string;
}

/** Defaults of `berth batch run` and `BatchJob.run` (docs/batch.md lists them). */
export const BATCH_DEFAULTS = Object.freeze({
  miniBatchSize: 32, // items per tensor / runBatch() call
  errorThreshold: -1, // failed items tolerated; -1 = no limit
  chunkBytes: 1024 * 1024, // 1 MiB of input handed to a worker at a time (several mini-batches)
  chunkMs: 200, // ... or about 0.2 s of scoring, whichever comes first
  commitIntervalMs: 100, // output fsync'd and checkpoint renamed at most every 0.1 s
  progressIntervalMs: 250, // progress events at most every 0.25 s
  initTimeoutMs: 300_000, // 5 min for a worker's init() / model load
  scoringTimeoutMs: 60_000, // 60 s for one run() of a python entry script
  maxWorkerCrashes: 10, // worker crashes tolerated in one run before it stops with BATCH_FAILED
  stallTimeoutMs: 600_000, // 10 min without a word from a worker that has work: killed, handled as a crash
});

/** The default worker count: one per core. */
export function defaultWorkerCount(): number {
  return availableParallelism();
}

/** Options of one batch run, as `BatchJob.run` takes them. */
export interface BatchRunOptions {
  /** Registered models: NAME (latest), NAME:VERSION or NAME@ALIAS. */
  models?: string[];
  /** Unregistered model files or folders, named after the file or folder (version 1). */
  modelDirs?: string[];
  /**
   * Path of `inferenceconfig.json`, or a config already parsed with `parseInferenceConfig`.
   * Default: `{"runtime": "onnx"}` (an ONNX model, no entry script).
   */
  inferenceConfig?: string | InferenceConfig;
  /** A `.jsonl` / `.csv` file or a folder. */
  input: string;
  /** JSON Lines file written in input order; a checkpoint file sits next to it. */
  output: string;
  /** Detected from `input` when absent: folder → folder, `*.csv` → csv, anything else → jsonl. */
  inputKind?: BatchInputKind;
  /** Items per mini-batch (one tensor or one `runBatch()` call). Default 32. */
  miniBatchSize?: number;
  /** Worker processes. Default: the number of cores. */
  workers?: number;
  /** Failed items tolerated; one more stops the run with BATCH_FAILED. Default -1 (no limit). */
  errorThreshold?: number;
  /** Continue from the checkpoint next to `output` instead of starting over. */
  resume?: boolean;
  /** Called with progress at most every `progressIntervalMs` and once at the end. */
  onProgress?: (progress: BatchProgress) => void;
  progressIntervalMs?: number;
  /** Aborting stops the run after committing what is finished; the summary says `interrupted`. */
  signal?: AbortSignal;
  /** Where the coordinator reports what goes wrong on the way (a crashed worker, ...). Default: silent. */
  log?: BatchLog;
  /** Forwarded output of the worker processes (entry-script prints, their logs). Default: stderr. */
  workerOutput?: NodeJS.WritableStream;
}

/** Validates the numeric options; throws INVALID_ARGUMENT naming the flag. */
export function checkBatchNumbers(
  options: Pick<BatchRunOptions, 'miniBatchSize' | 'workers' | 'errorThreshold'>,
): void {
  const { miniBatchSize, workers, errorThreshold } = options;
  if (
    miniBatchSize !== undefined &&
    !(Number.isInteger(miniBatchSize) && miniBatchSize >= 1 && miniBatchSize <= 1_000_000)
  ) {
    throw invalid(`--mini-batch-size must be an integer from 1 to 1000000, got ${miniBatchSize}.`);
  }
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1 && workers <= 256)) {
    throw invalid(`--workers must be an integer from 1 to 256, got ${workers}.`);
  }
  if (errorThreshold !== undefined && !(Number.isInteger(errorThreshold) && errorThreshold >= -1)) {
    throw invalid(`--error-threshold must be -1 (no limit) or an integer >= 0, got ${errorThreshold}.`);
  }
}

function invalid(message: string): BerthError {
  return new BerthError('INVALID_ARGUMENT', message, { hint: 'See: berth batch run --help' });
}
