import type { BatchInputKind } from './batch-options.js';

/** How a batch run ended. */
export type BatchStatus = 'completed' | 'failed' | 'interrupted';

/** Progress of a running batch job, as `onProgress` receives it. */
export interface BatchProgress {
  /** Items written to the output so far (including those of earlier, resumed runs). */
  items: number;
  failures: number;
  /** Items per second over the last few seconds of this run. */
  itemsPerSecond: number;
  /** Share of the input done, 0..1 (by bytes for files, by count for folders). */
  fraction: number;
  /** Seconds left at the current rate; undefined until a rate is known. */
  etaSeconds?: number;
  elapsedMs: number;
  /** Items in the input, when known (folders). */
  totalItems?: number;
  /** True on the last event of the run. */
  done: boolean;
}

/** What a batch run reports when it ends (`berth batch run --json` prints it). */
export interface BatchSummary {
  status: BatchStatus;
  input: string;
  inputKind: BatchInputKind;
  output: string;
  checkpoint: string;
  /** Items with a line in the output (scored or failed), over all runs of this output. */
  items: number;
  succeeded: number;
  /** Items whose line carries an error (malformed input included). */
  failures: number;
  /** Failed items whose input line could not be read (bad JSON, bad CSV record). */
  malformed: number;
  /** Line numbers of the first malformed input lines (at most 100). */
  malformedLines: number[];
  /**
   * Messages of the first failures of this run (at most 10), each naming its line or file
   * (`line 7: malformed JSON: ...`).
   */
  firstFailures: string[];
  /** Items already in the output when this run resumed (0 for a fresh run). */
  resumedFrom: number;
  /** Wall time of this run in milliseconds. */
  durationMs: number;
  /** The same in seconds (two decimals). */
  seconds: number;
  /** Items this run scored per second of its wall time. */
  itemsPerSecond: number;
  workers: number;
  miniBatchSize: number;
  /** Worker processes that crashed and were replaced. */
  workerRestarts: number;
  errorThreshold: number;
}

/** At most this many malformed line numbers are kept in the summary and checkpoint. */
export const MAX_MALFORMED_LINES = 100;

/** At most this many failure messages are kept in the summary. */
export const MAX_FAILURE_MESSAGES = 10;
