import { BerthError } from '../../../core/errors.js';
import type { TensorMetadata } from '../../runtime.js';
import type { JsonSchema } from '../../schema-from-sample.js';

/** onnxruntime's element type names. */
export type OrtType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'bool'
  | 'string';

/** A model input or output as the ONNX file describes it. */
export interface OnnxValueInfo {
  name: string;
  type: OrtType;
  /** -1 for a symbolic or dynamic dimension. */
  shape: number[];
}

const V2_OF: Record<OrtType, string> = {
  float32: 'FP32',
  float64: 'FP64',
  float16: 'FP16',
  int8: 'INT8',
  uint8: 'UINT8',
  int16: 'INT16',
  uint16: 'UINT16',
  int32: 'INT32',
  uint32: 'UINT32',
  int64: 'INT64',
  uint64: 'UINT64',
  bool: 'BOOL',
  string: 'BYTES',
};

/** The Open Inference Protocol datatype of an onnxruntime element type. */
export function v2Datatype(type: OrtType): string {
  return V2_OF[type];
}

export function toTensorMetadata(info: OnnxValueInfo): TensorMetadata {
  return { name: info.name, datatype: v2Datatype(info.type), shape: info.shape };
}

/** Flat tensor data ready for `new ort.Tensor(type, data, dims)`. */
export type TensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | string[];

type Kind = 'float' | 'int' | 'bigint' | 'bool' | 'string';

function kindOf(type: OrtType): Kind {
  switch (type) {
    case 'float32':
    case 'float64':
      return 'float';
    case 'int64':
    case 'uint64':
      return 'bigint';
    case 'bool':
      return 'bool';
    case 'string':
      return 'string';
    case 'float16':
      throw new BerthError(
        'NOT_SUPPORTED',
        'float16 tensors are not supported by the onnx runtime of Berth.',
        {
          hint: 'Export the model with float32 inputs and outputs.',
        },
      );
    default:
      return 'int';
  }
}

/** Allocates flat storage for `n` elements of `type`. */
export function allocate(type: OrtType, n: number): TensorData {
  switch (type) {
    case 'float32':
      return new Float32Array(n);
    case 'float64':
      return new Float64Array(n);
    case 'int8':
      return new Int8Array(n);
    case 'uint8':
    case 'bool':
      return new Uint8Array(n);
    case 'int16':
      return new Int16Array(n);
    case 'uint16':
      return new Uint16Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'uint32':
      return new Uint32Array(n);
    case 'int64':
      return new BigInt64Array(n);
    case 'uint64':
      return new BigUint64Array(n);
    case 'string':
      return new Array<string>(n);
    default:
      kindOf(type);
      throw new BerthError('NOT_SUPPORTED', `Tensor type ${type} is not supported.`);
  }
}

function expectedWord(kind: Kind): string {
  if (kind === 'float') return 'a number';
  if (kind === 'bool') return 'a boolean';
  if (kind === 'string') return 'a string';
  return 'an integer';
}

function bad(message: string): BerthError {
  return new BerthError('BAD_REQUEST', message);
}

function formatShape(shape: readonly number[]): string {
  return `[${shape.map((d) => (d < 0 ? 'N' : String(d))).join(', ')}]`;
}

/**
 * Converts a nested JSON array into flat tensor data for `info`, checking rank, fixed dimensions,
 * rectangularity and element types. `where` names the value in error messages (`data`,
 * `inputs.X`); a failing element is named by its path (`data[0][3]`). Throws BAD_REQUEST.
 */
export function tensorFromJson(
  info: OnnxValueInfo,
  value: unknown,
  where: string,
): { data: TensorData; dims: number[] } {
  if (info.type === 'float32' && info.shape.length === 2) {
    const fast = float32Matrix(info, value);
    if (fast !== undefined) return fast;
  }
  const kind = kindOf(info.type);
  const dims: number[] = [];
  let probe = value;
  while (Array.isArray(probe)) {
    dims.push(probe.length);
    probe = probe[0];
  }
  const rank = info.shape.length;
  if (dims.length !== rank) {
    throw bad(
      `${where} must be a ${rank}-D array of shape ${formatShape(info.shape)} for input "${info.name}", got a ${dims.length}-D value.`,
    );
  }
  for (let i = 0; i < rank; i++) {
    const want = info.shape[i];
    if (want >= 0 && dims[i] !== want) {
      throw bad(
        `${where} has shape ${formatShape(dims)} but input "${info.name}" expects ${formatShape(info.shape)} (dimension ${i} must be ${want}).`,
      );
    }
  }
  let n = 1;
  for (const d of dims) n *= d;
  const data = allocate(info.type, n);
  if (rank === 2 && kind === 'float') {
    fillFloat2d(value as unknown[][], dims[0], dims[1], data as Float32Array | Float64Array, where);
  } else {
    let at = 0;
    const fill = (v: unknown, depth: number, path: string): void => {
      if (depth === rank) {
        data[at++] = convert(v, kind, () => path);
        return;
      }
      if (!Array.isArray(v) || v.length !== dims[depth]) {
        throw bad(`${path} must be an array of ${dims[depth]} values (rows must all have the same length).`);
      }
      for (let i = 0; i < v.length; i++) fill(v[i], depth + 1, `${path}[${i}]`);
    };
    if (rank === 0) data[0] = convert(value, kind, () => where);
    else fill(value, 0, where);
  }
  return { data, dims };
}

/**
 * The common case (a float32 [N, K] input given as a well-formed 2-D array of numbers) in one pass
 * with no intermediate steps; anything unusual returns undefined and takes the general path, which
 * names the offending element.
 */
function float32Matrix(
  info: OnnxValueInfo,
  value: unknown,
): { data: Float32Array; dims: number[] } | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const first = value[0];
  if (!Array.isArray(first)) return undefined;
  const n = value.length;
  const k = first.length;
  const want = info.shape[1];
  if (want >= 0 && k !== want) return undefined;
  const out = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    const row = value[i];
    if (!Array.isArray(row) || row.length !== k) return undefined;
    const base = i * k;
    for (let j = 0; j < k; j++) {
      const v = row[j];
      if (typeof v !== 'number') return undefined;
      out[base + j] = v;
    }
  }
  return { data: out, dims: [n, k] };
}

function fillFloat2d(
  rows: unknown[][],
  n: number,
  k: number,
  out: Float32Array | Float64Array,
  where: string,
): void {
  for (let i = 0; i < n; i++) {
    const row = rows[i];
    if (!Array.isArray(row) || row.length !== k) {
      throw bad(`${where}[${i}] must be an array of ${k} values (rows must all have the same length).`);
    }
    const base = i * k;
    for (let j = 0; j < k; j++) {
      const v = row[j];
      if (typeof v !== 'number')
        throw bad(`${where}[${i}][${j}] must be a number, got ${JSON.stringify(v) ?? 'nothing'}.`);
      out[base + j] = v;
    }
  }
}

function convert(v: unknown, kind: Kind, path: () => string): never | number | bigint | string {
  switch (kind) {
    case 'float':
      if (typeof v === 'number') return v;
      break;
    case 'int':
      if (Number.isInteger(v)) return v as number;
      break;
    case 'bigint':
      if (Number.isInteger(v)) return BigInt(v as number);
      break;
    case 'bool':
      if (typeof v === 'boolean') return v ? 1 : 0;
      break;
    case 'string':
      if (typeof v === 'string') return v;
      break;
  }
  throw bad(`${path()} must be ${expectedWord(kind)}, got ${JSON.stringify(v) ?? 'nothing'}.`);
}

/** Flat data (already checked against its V2 datatype) into tensor storage of `type`. */
export function tensorFromFlat(type: OrtType, flat: readonly unknown[]): TensorData {
  const kind = kindOf(type);
  const out = allocate(type, flat.length);
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i];
    out[i] = kind === 'bigint' ? BigInt(v as number) : kind === 'bool' ? (v ? 1 : 0) : (v as never);
  }
  return out;
}

/** Tensor data as JSON values: numbers (int64 as numbers), booleans or strings. */
export function jsonValues(type: string, data: ArrayLike<unknown>): unknown[] {
  const n = data.length;
  const out = new Array(n);
  if (type === 'bool') for (let i = 0; i < n; i++) out[i] = Boolean(data[i]);
  else if (type === 'int64' || type === 'uint64') for (let i = 0; i < n; i++) out[i] = Number(data[i]);
  else for (let i = 0; i < n; i++) out[i] = data[i];
  return out;
}

/**
 * A result tensor as nested JSON arrays, like the seed's clients expect: `[N, 1]` becomes a flat
 * list of N values (scikit-learn's `predict`), `[N, K]` a list of N rows, higher ranks nest fully,
 * a scalar stays a scalar.
 */
export function nestedJson(type: string, data: ArrayLike<unknown>, dims: readonly number[]): unknown {
  const rank = dims.length;
  if (rank === 0) return jsonValues(type, data)[0];
  if (rank === 1 || (rank === 2 && dims[1] === 1)) return jsonValues(type, data);
  if (rank === 2 && (type === 'float32' || type === 'float64')) {
    const [n, k] = dims;
    const typed = data as Float32Array | Float64Array;
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = Array.from(typed.subarray(i * k, (i + 1) * k));
    return out;
  }
  const values = jsonValues(type, data);
  const nest = (offset: number, depth: number): unknown[] => {
    const len = dims[depth];
    const out = new Array(len);
    if (depth === rank - 1) {
      for (let i = 0; i < len; i++) out[i] = values[offset + i];
      return out;
    }
    let step = 1;
    for (let d = depth + 1; d < rank; d++) step *= dims[d];
    for (let i = 0; i < len; i++) out[i] = nest(offset + i * step, depth + 1);
    return out;
  };
  return nest(0, 0);
}

/** JSON Schema of a tensor as nested arrays (fixed dimensions as min/maxItems). */
export function tensorSchema(info: OnnxValueInfo, flattenColumn = false): JsonSchema {
  const leaf: JsonSchema =
    info.type === 'bool'
      ? { type: 'boolean' }
      : info.type === 'string'
        ? { type: 'string' }
        : info.type.startsWith('float')
          ? { type: 'number', format: info.type === 'float64' ? 'double' : 'float' }
          : { type: 'integer', format: info.type };
  let shape = info.shape;
  if (flattenColumn && shape.length === 2 && shape[1] === 1) shape = [shape[0]];
  let schema = leaf;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i];
    schema =
      d >= 0 ? { type: 'array', items: schema, minItems: d, maxItems: d } : { type: 'array', items: schema };
  }
  return schema;
}
