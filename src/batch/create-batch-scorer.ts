import type { RuntimeFactoryOptions } from '../serving/runtime.js';
import { createRuntime } from '../serving/runtimes/create-runtime.js';
import type { BatchScorer } from './batch-scorer.js';
import { OnnxTensorScorer } from './onnx-tensor-scorer.js';
import { PerItemScorer } from './per-item-scorer.js';
import { loadRunBatchScorer } from './run-batch-scorer.js';

/**
 * Loads the runtime the inference config names, once per worker, and picks how to score with it:
 * ONNX without entry script → rows stacked into tensors; a node entry script exporting
 * `runBatch(items, ctx)` → one call per mini-batch; anything else → `run` per item.
 * @throws what the runtime's load throws (INIT_FAILED, ENTRY_SCRIPT_NOT_FOUND, ENTRY_SCRIPT_INVALID, ...)
 */
export async function createBatchScorer(options: RuntimeFactoryOptions): Promise<BatchScorer> {
  if (options.config.runtime === 'node') {
    const batchScorer = await loadRunBatchScorer(options);
    if (batchScorer) return batchScorer;
  }
  const runtime = await createRuntime(options);
  try {
    await runtime.load();
    return runtime.name === 'onnx' ? new OnnxTensorScorer(runtime) : new PerItemScorer(runtime);
  } catch (err) {
    await runtime.close().catch(() => {});
    throw err;
  }
}
