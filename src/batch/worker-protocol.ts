import type { InferenceConfig } from '../core/config/inference-config.js';
import type { ServedModel } from '../serving/serve-spec.js';
import type { InputDescription } from './item-decoder.js';
import type { PackedMiniBatches } from './packed-mini-batches.js';

/** Messages between the batch coordinator and its worker processes (child_process IPC). */

/** First message to a worker: everything it needs to load the runtime and read the input. */
export interface WorkerInit {
  type: 'init';
  config: InferenceConfig;
  models: ServedModel[];
  input: InputDescription;
  /** The output file; workers write their scored chunks into it at offsets the coordinator assigns. */
  output: string;
  limits: { scoringTimeoutMs: number; initTimeoutMs: number };
  logLevel: string;
}

/** Score these consecutive mini-batches and keep the result until told where to write it. */
export interface ChunkOrder {
  type: 'chunk';
  id: number;
  batches: PackedMiniBatches;
}

/** Write the first `batches` mini-batches of a scored chunk at `offset` of the output. */
export interface WriteOrder {
  type: 'write';
  id: number;
  offset: number;
  batches: number;
}

export type CoordinatorMessage = WorkerInit | ChunkOrder | WriteOrder;

/** What one scored mini-batch produced. */
export interface BatchOutcome {
  /** Bytes of its output lines. */
  bytes: number;
  items: number;
  failures: number;
  /** Malformed input lines: their line numbers (files) and messages. */
  malformed: { line?: number; message: string }[];
  /** The first scoring failure (not a malformed line), named by its line or file, for the summary. */
  firstError?: string;
}

export interface WorkerReady {
  type: 'ready';
  mode: 'tensor' | 'runBatch' | 'run';
}

export interface WorkerInitFailed {
  type: 'init-failed';
  error: { code: string; message: string; hint?: string };
}

/**
 * A chunk is scored. Compact, since one arrives every few milliseconds: per mini-batch only its
 * output size and item count, plus notes for the mini-batches that had failures.
 */
export interface ChunkScored {
  type: 'scored';
  id: number;
  /** Output bytes of each mini-batch. */
  bytes: number[];
  /** Items of each mini-batch. */
  items: number[];
  /** Mini-batches with failures: their index in the chunk, count, malformed lines, first message. */
  failed: {
    at: number;
    failures: number;
    malformed: { line?: number; message: string }[];
    firstError?: string;
  }[];
  /** Milliseconds spent scoring the chunk. */
  busyMs: number;
}

/** Rebuilds the per-mini-batch outcomes of a `scored` message. */
export function outcomesOf(message: ChunkScored): BatchOutcome[] {
  const out: BatchOutcome[] = new Array(message.bytes.length);
  for (let i = 0; i < out.length; i++)
    out[i] = { bytes: message.bytes[i], items: message.items[i], failures: 0, malformed: [] };
  for (const f of message.failed) {
    const o = out[f.at];
    o.failures = f.failures;
    o.malformed = f.malformed;
    o.firstError = f.firstError;
  }
  return out;
}

export interface ChunkWritten {
  type: 'written';
  id: number;
  bytes: number;
}

export interface WorkerFailed {
  type: 'failed';
  error: { code: string; message: string };
}

export type WorkerMessage = WorkerReady | WorkerInitFailed | ChunkScored | ChunkWritten | WorkerFailed;
