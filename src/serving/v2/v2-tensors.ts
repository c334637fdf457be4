import { BerthError } from '../../core/errors.js';
import type { V2Tensor } from '../runtime.js';

/** Open Inference Protocol datatypes Berth accepts (FP16/BF16 are not). */
export type V2Datatype =
  | 'BOOL'
  | 'UINT8'
  | 'UINT16'
  | 'UINT32'
  | 'UINT64'
  | 'INT8'
  | 'INT16'
  | 'INT32'
  | 'INT64'
  | 'FP32'
  | 'FP64'
  | 'BYTES';

const INTEGER_RANGES: Record<string, [number, number]> = {
  UINT8: [0, 255],
  UINT16: [0, 65_535],
  UINT32: [0, 4_294_967_295],
  UINT64: [0, Number.MAX_SAFE_INTEGER],
  INT8: [-128, 127],
  INT16: [-32_768, 32_767],
  INT32: [-2_147_483_648, 2_147_483_647],
  INT64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

const DATATYPES = new Set<string>([...Object.keys(INTEGER_RANGES), 'BOOL', 'FP32', 'FP64', 'BYTES']);

/** A parsed V2 inference request: inputs with flat, type-checked data. */
export interface V2InferenceRequest {
  id?: string;
  inputs: V2Tensor[];
  /** Names of the requested outputs; absent = all. */
  outputs?: string[];
  parameters?: Record<string, unknown>;
}

function bad(message: string): BerthError {
  return new BerthError('BAD_REQUEST', message);
}

/**
 * Checks an inference request body against the Open Inference Protocol: `inputs` with name,
 * shape, datatype and data (nested or flat); data values of the datatype; data length equal to
 * the product of the shape. Throws BAD_REQUEST (→ 400 `{"error": ...}`) naming the tensor.
 */
export function parseInferenceRequest(body: unknown): V2InferenceRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw bad('The inference request must be a JSON object with "inputs".');
  }
  const { id, inputs, outputs, parameters } = body as Record<string, unknown>;
  if (!Array.isArray(inputs) || inputs.length === 0)
    throw bad('"inputs" must be a non-empty array of tensors.');
  if (id !== undefined && typeof id !== 'string') throw bad('"id" must be a string.');
  const seen = new Set<string>();
  const tensors = inputs.map((t, i) => {
    const tensor = parseTensor(t, `inputs[${i}]`);
    if (seen.has(tensor.name)) throw bad(`Input "${tensor.name}" is given twice.`);
    seen.add(tensor.name);
    return tensor;
  });
  let names: string[] | undefined;
  if (outputs !== undefined) {
    if (!Array.isArray(outputs)) throw bad('"outputs" must be an array of {"name": ...}.');
    names = outputs.map((o, i) => {
      const name = (o as { name?: unknown } | null)?.name;
      if (typeof name !== 'string' || name.length === 0) throw bad(`"outputs[${i}].name" must be a string.`);
      return name;
    });
  }
  return {
    id,
    inputs: tensors,
    outputs: names,
    parameters: parameters as Record<string, unknown> | undefined,
  };
}

function parseTensor(value: unknown, where: string): V2Tensor {
  if (value === null || typeof value !== 'object') throw bad(`${where} must be a tensor object.`);
  const { name, shape, datatype, data, parameters } = value as Record<string, unknown>;
  if (typeof name !== 'string' || name.length === 0) throw bad(`${where}.name must be a non-empty string.`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
    throw bad(`Input "${name}": "shape" must be an array of non-negative integers.`);
  }
  if (typeof datatype !== 'string' || !DATATYPES.has(datatype)) {
    throw bad(
      `Input "${name}": datatype ${JSON.stringify(datatype)} is not supported; use one of ${[...DATATYPES].join(', ')}.`,
    );
  }
  if (!Array.isArray(data)) throw bad(`Input "${name}": "data" must be an array.`);
  const flat = data.flat(Number.POSITIVE_INFINITY) as unknown[];
  const expected = (shape as number[]).reduce((a, b) => a * b, 1);
  if (flat.length !== expected) {
    throw bad(
      `Input "${name}": shape [${(shape as number[]).join(',')}] needs ${expected} values, but "data" has ${flat.length}.`,
    );
  }
  checkValues(name, datatype, flat);
  return {
    name,
    shape: shape as number[],
    datatype,
    data: flat,
    parameters: parameters as Record<string, unknown> | undefined,
  };
}

function checkValues(name: string, datatype: string, data: unknown[]): void {
  const range = INTEGER_RANGES[datatype];
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    let ok: boolean;
    if (range) ok = Number.isInteger(v) && (v as number) >= range[0] && (v as number) <= range[1];
    else if (datatype === 'BOOL') ok = typeof v === 'boolean';
    else if (datatype === 'BYTES') ok = typeof v === 'string';
    else ok = typeof v === 'number';
    if (!ok) {
      throw bad(`Input "${name}": data[${i}] = ${JSON.stringify(v)} is not a valid ${datatype} value.`);
    }
  }
}

/** Product of a shape's dimensions. */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Reshapes flat data into nested arrays of `shape` (a scalar for shape []). */
export function nest(data: readonly unknown[], shape: readonly number[]): unknown {
  if (shape.length === 0) return data[0];
  if (shape.length === 1) return data.slice(0, shape[0]);
  const [first, ...rest] = shape;
  const step = shapeSize(rest);
  const out = new Array(first);
  for (let i = 0; i < first; i++) out[i] = nest(data.slice(i * step, (i + 1) * step), rest);
  return out;
}

/**
 * Turns a JSON value returned by an entry script into a V2 output tensor: its shape from the
 * nesting (must be rectangular) and its datatype from the values (BOOL, BYTES, INT64 for whole
 * numbers, else FP64).
 */
export function tensorFromValue(name: string, value: unknown): V2Tensor {
  const shape: number[] = [];
  let probe: unknown = value;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const data = Array.isArray(value) ? (value.flat(Number.POSITIVE_INFINITY) as unknown[]) : [value];
  if (data.length !== shapeSize(shape)) {
    throw new BerthError(
      'SCORING_FAILED',
      `Output "${name}" is not a rectangular array, so it has no tensor shape.`,
    );
  }
  let datatype = 'INT64';
  if (data.length > 0 && data.every((v) => typeof v === 'boolean')) datatype = 'BOOL';
  else if (data.length > 0 && data.every((v) => typeof v === 'string')) datatype = 'BYTES';
  else if (data.every((v) => typeof v === 'number')) {
    if (!data.every((v) => Number.isInteger(v))) datatype = 'FP64';
  } else {
    throw new BerthError(
      'SCORING_FAILED',
      `Output "${name}" mixes value types, so it has no tensor datatype.`,
    );
  }
  return { name, shape: shape.length === 0 ? [1] : shape, datatype, data };
}
