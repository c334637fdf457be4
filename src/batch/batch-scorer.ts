import type { DecodedBatch } from './item-decoder.js';
import type { ItemError } from './output-line.js';

/**
 * What scoring a mini-batch gave: `predictions[i]` for item i, unless `errors?.[i]` is set (then
 * item i failed). Parallel arrays rather than an object per item: a million rows are a million
 * fewer allocations.
 */
export interface BatchResult {
  predictions: unknown[];
  errors?: (ItemError | undefined)[];
}

/** Records that item `i` of an `n`-item batch failed. */
export function failItem(result: BatchResult, i: number, n: number, error: ItemError): void {
  result.errors ??= new Array(n);
  result.errors[i] = error;
}

/**
 * Scores the mini-batches of one worker with one loaded runtime. Implementations: the ONNX tensor
 * scorer (rows stacked into one tensor), the node `runBatch(items, ctx)` scorer, and the per-item
 * scorer (`runtime.score` for every item: node `run`, python `run`).
 */
export interface BatchScorer {
  /** How items are scored, for logs and the worker's ready message. */
  readonly mode: 'tensor' | 'runBatch' | 'run';
  /** True when JSON lines of numbers should be decoded into one flat array (`DecodedBatch.flat`). */
  readonly flatRows: boolean;
  /**
   * Scores the items of one mini-batch (none malformed), one outcome per item in order. An item's
   * failure is its outcome; the promise rejects only when the scorer itself is broken.
   */
  score(batch: DecodedBatch): Promise<BatchResult>;
  close(): Promise<void>;
}
