import { BerthError } from '../core/errors.js';
import type { Runtime, TensorMetadata, V2Tensor } from '../serving/runtime.js';
import { type BatchResult, type BatchScorer, failItem } from './batch-scorer.js';
import { type DecodedBatch, type DecodedItem, itemValue } from './item-decoder.js';
import { itemError } from './output-line.js';

const EMPTY = Buffer.alloc(0);

/**
 * Scores an ONNX model with no entry script: the rows of a mini-batch are stacked into one tensor
 * per model input and run at once through the onnx runtime; the output tensors are split back into
 * one prediction per row, shaped as `POST /score` answers a one-row request (`[N, 1]` outputs give
 * a number per row, `[N, K]` an array, several outputs an object by output name).
 *
 * A row is a JSON array (nested for inputs of higher rank), `{"data": row}` or `{"data": [row]}`, an
 * object of numbers (a CSV row; its values in column order), or `{"<input>": row}`; for a model
 * with several inputs, an object naming each input.
 * Single-input models whose row shape is fixed get their rows as one flat array (`inferV2`), parsed
 * straight from the JSON lines; others go through `score` with nested arrays. When a stacked run
 * fails, the rows are run one by one so that only the bad ones fail.
 */
export class OnnxTensorScorer implements BatchScorer {
  readonly mode = 'tensor' as const;
  readonly flatRows: boolean;
  private readonly inputs: TensorMetadata[];
  /** Single input with fixed row shape: the shape after the batch dimension and its element count. */
  private readonly rowShape: number[] | undefined;
  private readonly rowSize: number;

  constructor(private readonly runtime: Runtime) {
    const meta = runtime.v2Metadata?.();
    if (!meta || meta.inputs.length === 0) {
      throw new BerthError(
        'INIT_FAILED',
        'The onnx runtime reported no model inputs; batch scoring cannot stack rows.',
      );
    }
    this.inputs = meta.inputs;
    const shape = this.inputs[0].shape;
    const fixed =
      this.inputs.length === 1 &&
      shape.length >= 2 &&
      shape.slice(1).every((d) => d >= 0) &&
      runtime.inferV2 !== undefined;
    this.rowShape = fixed ? shape.slice(1) : undefined;
    this.rowSize = fixed ? shape.slice(1).reduce((a, b) => a * b, 1) : -1;
    this.flatRows = fixed && shape.length === 2;
  }

  async score(batch: DecodedBatch): Promise<BatchResult> {
    const { items } = batch;
    const n = items.length;
    if (this.rowShape && batch.flat && this.allRowsFlat(items)) {
      try {
        return { predictions: await this.scoreFlat(batch.flat, n) };
      } catch {
        // some row made the stacked run fail: the general path below isolates it
      }
    }
    const out: BatchResult = { predictions: new Array(n) };
    const rows: unknown[] = [];
    const at: number[] = [];
    const lazyRows: boolean[] = [];
    let allFlat = batch.flat !== undefined;
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      // a row parsed into batch.flat with the right size stays there (no copy) unless a fallback needs it
      const lazy = this.rowShape !== undefined && item.flatCount === this.rowSize;
      const row = lazy ? item : this.rowShape ? this.flatRow(batch, item) : this.toRow(item.value);
      if (!lazy) allFlat = false;
      if (row instanceof BerthError) failItem(out, i, n, itemError(row));
      else {
        rows.push(row);
        at.push(i);
        lazyRows.push(lazy);
      }
    }
    if (rows.length === 0) return out;
    const materialize = (j: number): unknown =>
      lazyRows[j] ? itemValue(batch, rows[j] as DecodedItem) : rows[j];
    const flat = allFlat && at.length === items.length ? batch.flat : undefined;
    try {
      const predictions = await this.scoreRows(flat ? rows : rows.map((_, j) => materialize(j)), flat);
      if (at.length === n) return { predictions };
      for (let j = 0; j < at.length; j++) out.predictions[at[j]] = predictions[j];
    } catch (err) {
      if (rows.length === 1) {
        failItem(out, at[0], n, itemError(err));
        return out;
      }
      for (let j = 0; j < at.length; j++) {
        try {
          out.predictions[at[j]] = (await this.scoreRows([materialize(j)], undefined))[0];
        } catch (one) {
          failItem(out, at[j], n, itemError(one));
        }
      }
    }
    return out;
  }

  close(): Promise<void> {
    return this.runtime.close();
  }

  /** Fixed row shape: the row's numbers as a flat array (checked against the row size), or the error. */
  private flatRow(batch: DecodedBatch, item: DecodedItem): number[] | BerthError {
    let values: unknown;
    if (item.flatCount !== undefined) {
      values = itemValue(batch, item);
    } else {
      values = this.toRow(item.value);
      if (values instanceof BerthError) return values;
    }
    const flat = (values as unknown[]).flat(Number.POSITIVE_INFINITY) as unknown[];
    if (flat.length !== this.rowSize) {
      const input = this.inputs[0];
      return new BerthError(
        'BAD_REQUEST',
        `The row has ${flat.length} values, but input "${input.name}" takes ${this.rowSize} (shape [N, ${(this.rowShape ?? []).join(', ')}]).`,
      );
    }
    return flat as number[];
  }

  /** The item as one row of the model's input (or an object of rows per input); a BerthError when it cannot be. */
  private toRow(value: unknown): unknown {
    if (this.inputs.length === 1) {
      const input = this.inputs[0];
      let row = value;
      if (row !== null && typeof row === 'object' && !Array.isArray(row)) {
        const obj = row as Record<string, unknown>;
        if (Object.hasOwn(obj, input.name)) row = obj[input.name];
        else if (Object.hasOwn(obj, 'data')) {
          // a /score body: {"data": row} or {"data": [row]} (one row per line)
          row = obj.data;
          if (Array.isArray(row) && row.length === 1 && Array.isArray(row[0]) && input.shape.length === 2)
            row = row[0];
        } else {
          const values = Object.values(obj);
          if (values.every((v) => typeof v === 'number')) row = values;
          else return notARow(`an object of numbers (a CSV row) or {"${input.name}": [...]}`, value);
        }
      }
      if (!Array.isArray(row)) return notARow(`an array for input "${input.name}"`, value);
      return row;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return notARow(
        `an object naming each input (${this.inputs.map((i) => `"${i.name}"`).join(', ')})`,
        value,
      );
    }
    const obj = value as Record<string, unknown>;
    for (const input of this.inputs) {
      if (!Object.hasOwn(obj, input.name))
        return new BerthError('BAD_REQUEST', `The row has no value for input "${input.name}".`);
    }
    return obj;
  }

  /** True when every item was parsed into the mini-batch's flat array with exactly one row's worth of numbers. */
  private allRowsFlat(items: readonly DecodedItem[]): boolean {
    for (let i = 0; i < items.length; i++) if (items[i].flatCount !== this.rowSize) return false;
    return true;
  }

  /** `n` rows already stacked in `data`: one tensor, one run. */
  private async scoreFlat(data: number[], n: number): Promise<unknown[]> {
    const input = this.inputs[0];
    const tensor: V2Tensor = {
      name: input.name,
      datatype: input.datatype,
      shape: [n, ...(this.rowShape as number[])],
      data,
    };
    return splitTensors(await (this.runtime.inferV2 as NonNullable<Runtime['inferV2']>)([tensor]), n);
  }

  private async scoreRows(rows: unknown[], flat: number[] | undefined): Promise<unknown[]> {
    if (this.rowShape && this.runtime.inferV2)
      return this.scoreFlat(flat ?? (rows as number[][]).flat(), rows.length);
    const body =
      this.inputs.length === 1
        ? { data: rows }
        : {
            inputs: Object.fromEntries(
              this.inputs.map((input) => [
                input.name,
                rows.map((r) => (r as Record<string, unknown>)[input.name]),
              ]),
            ),
          };
    const result = await this.runtime.score({ body, raw: EMPTY, contentType: 'application/json' });
    return splitNested(result, rows.length);
  }
}

/** One prediction per row from V2 output tensors of `n` stacked rows. */
function splitTensors(outputs: V2Tensor[], n: number): unknown[] {
  const perOutput = outputs.map((t) => {
    if (t.shape[0] !== n) throw notPerRow(t.shape[0] ?? 1, n);
    return rowsOf(t, n);
  });
  if (perOutput.length === 1) return perOutput[0];
  const out: unknown[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = Object.fromEntries(outputs.map((t, k) => [t.name, perOutput[k][i]]));
  return out;
}

/** Row i of a tensor as `/score` shapes it: a scalar for `[N]` and `[N, 1]`, else nested arrays. */
function rowsOf(t: V2Tensor, n: number): unknown[] {
  const rest = t.shape.slice(1);
  const size = rest.reduce((a, b) => a * b, 1);
  const data = t.data;
  if (size === 1 && rest.length <= 1) return data.length === n ? (data as unknown[]) : data.slice(0, n);
  const out: unknown[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = nest(data, i * size, rest, 0);
  return out;
}

function nest(data: readonly unknown[], offset: number, dims: readonly number[], depth: number): unknown[] {
  const len = dims[depth];
  if (depth === dims.length - 1) return data.slice(offset, offset + len);
  let step = 1;
  for (let d = depth + 1; d < dims.length; d++) step *= dims[d];
  const out: unknown[] = new Array(len);
  for (let i = 0; i < len; i++) out[i] = nest(data, offset + i * step, dims, depth + 1);
  return out;
}

/** One prediction per row from what `score` answered for `n` stacked rows. */
function splitNested(result: unknown, n: number): unknown[] {
  if (Array.isArray(result)) {
    if (result.length !== n) throw notPerRow(result.length, n);
    return result;
  }
  if (result !== null && typeof result === 'object') {
    const entries = Object.entries(result as Record<string, unknown>);
    for (const [, v] of entries) {
      if (!Array.isArray(v) || v.length !== n) throw notPerRow(Array.isArray(v) ? v.length : 1, n);
    }
    const out: unknown[] = new Array(n);
    for (let i = 0; i < n; i++)
      out[i] = Object.fromEntries(entries.map(([k, v]) => [k, (v as unknown[])[i]]));
    return out;
  }
  throw notPerRow(1, n);
}

function notPerRow(got: number, n: number): BerthError {
  return new BerthError(
    'SCORING_FAILED',
    `The model answered ${got} rows for ${n} stacked rows, so predictions cannot be matched to rows.`,
    {
      hint: 'Batch scoring without an entry script needs a model whose first dimension is the batch; try --mini-batch-size 1.',
    },
  );
}

function notARow(expected: string, value: unknown): BerthError {
  const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
  return new BerthError('BAD_REQUEST', `The row must be ${expected}, got ${got}.`);
}
