/** Offline batch scoring: `berth batch run` and the SDK's `BatchJob`. */
export { BatchJob, detectInputKind } from './batch-job.js';
export { BATCH_DEFAULTS, type BatchInputKind, type BatchRunOptions } from './batch-options.js';
export type { BatchProgress, BatchStatus, BatchSummary } from './batch-summary.js';
export type { BatchWorkspace } from './resolve-batch-models.js';
