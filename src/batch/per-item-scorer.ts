import type { Runtime } from '../serving/runtime.js';
import { type BatchResult, type BatchScorer, failItem } from './batch-scorer.js';
import { type DecodedBatch, itemValue, rawOf } from './item-decoder.js';
import { itemError } from './output-line.js';

/**
 * Scores items one at a time through `runtime.score`, exactly as `POST /score` would: the node
 * runtime calls `run(input, ctx)`, the python runtime `run(raw)` with the line (or the file bytes).
 */
export class PerItemScorer implements BatchScorer {
  readonly mode = 'run' as const;
  readonly flatRows = false;

  constructor(private readonly runtime: Runtime) {}

  async score(batch: DecodedBatch): Promise<BatchResult> {
    const { items } = batch;
    const out: BatchResult = { predictions: new Array(items.length) };
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      const raw = rawOf(batch, item);
      const body =
        item.contentType === 'application/octet-stream' && this.runtime.name !== 'node'
          ? raw
          : itemValue(batch, item);
      try {
        out.predictions[i] = await this.runtime.score({ body, raw, contentType: item.contentType });
      } catch (err) {
        failItem(out, i, items.length, itemError(err));
      }
    }
    return out;
  }

  close(): Promise<void> {
    return this.runtime.close();
  }
}
