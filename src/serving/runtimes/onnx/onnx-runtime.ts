import { statSync } from 'node:fs';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { BerthError } from '../../../core/errors.js';
import type {
  Runtime,
  RuntimeFactoryOptions,
  ScoreRequest,
  TensorMetadata,
  V2Tensor,
} from '../../runtime.js';
import type { JsonSchema } from '../../schema-from-sample.js';
import { listFiles } from '../model-path.js';
import {
  allocate,
  jsonValues,
  nestedJson,
  type OnnxValueInfo,
  type OrtType,
  type TensorData,
  tensorFromFlat,
  tensorFromJson,
  tensorSchema,
  toTensorMetadata,
  v2Datatype,
} from './onnx-tensors.js';

export interface OnnxRuntimeOptions extends RuntimeFactoryOptions {
  /**
   * onnxruntime threads inside one operator (default 1). One thread per replica keeps a replica
   * on one core, so replicas (processes) scale across cores without oversubscribing them; raise
   * it for big models served by one replica.
   */
  intraOpNumThreads?: number;
  /** onnxruntime threads across operators (default 1). */
  interOpNumThreads?: number;
}

type Ort = typeof import('onnxruntime-node');

/** Inputs larger than this (elements) skip the warm-up run: its memory would outweigh its gain. */
const WARM_UP_MAX_ELEMENTS = 1 << 24;

/** Creates the no-code runtime: the first served model's `.onnx` file through onnxruntime-node. */
export function createOnnxRuntime(options: OnnxRuntimeOptions): Runtime {
  return new OnnxRuntime(options);
}

/**
 * Serves an ONNX model with no entry script. Input/output names, element types and shapes come
 * from the model (symbolic or dynamic dimensions = -1). `POST /score` takes `{"data": [[...]]}`
 * (single-input models) or `{"inputs": {"name": nested array}}`; it answers the single output as
 * nested arrays (`[N, 1]` flattened to N values), or `{"name": nested}` for several outputs.
 */
class OnnxRuntime implements Runtime {
  readonly name = 'onnx' as const;
  private ort!: Ort;
  private session!: InferenceSession;
  private inputs: OnnxValueInfo[] = [];
  private outputs: OnnxValueInfo[] = [];
  private inputByName = new Map<string, OnnxValueInfo>();
  private outputNames: string[] = [];

  constructor(private readonly options: OnnxRuntimeOptions) {}

  async load(): Promise<void> {
    const file = this.modelFile();
    this.ort = await import('onnxruntime-node');
    try {
      this.session = await this.ort.InferenceSession.create(file, {
        intraOpNumThreads: this.options.intraOpNumThreads ?? 1,
        interOpNumThreads: this.options.interOpNumThreads ?? 1,
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
      });
    } catch (cause) {
      throw new BerthError('INIT_FAILED', `onnxruntime cannot load "${file}": ${(cause as Error).message}`, {
        hint: 'Check that the file is a valid ONNX model (opset supported by onnxruntime-node 1.30).',
        cause,
      });
    }
    this.inputs = readMetadata(this.session.inputMetadata, 'input');
    this.outputs = readMetadata(this.session.outputMetadata, 'output');
    this.inputByName = new Map(this.inputs.map((i) => [i.name, i]));
    this.outputNames = this.outputs.map((o) => o.name);
    await this.warmUp();
    this.options.log.info(
      { model: file, inputs: this.inputs, outputs: this.outputs },
      'onnx model loaded (intraOpNumThreads %d)',
      this.options.intraOpNumThreads ?? 1,
    );
  }

  /**
   * Runs the session once on zeros (dynamic dimensions = 1) during init, so the first scoring
   * requests do not pay onnxruntime's lazy first-run setup (allocations, kernel selection). A model
   * that refuses zeros is served anyway (logged at debug).
   */
  private async warmUp(): Promise<void> {
    try {
      const feeds: Record<string, Tensor> = {};
      for (const info of this.inputs) {
        const dims = info.shape.map((d) => (d < 0 ? 1 : d));
        const n = dims.reduce((a, b) => a * b, 1);
        if (n > WARM_UP_MAX_ELEMENTS) return;
        const data = allocate(info.type, n);
        if (Array.isArray(data)) data.fill('');
        feeds[info.name] = new this.ort.Tensor(info.type, data as Exclude<TensorData, BigUint64Array>, dims);
      }
      await this.session.run(feeds, this.outputNames);
    } catch (err) {
      this.options.log.debug({ err }, 'onnx warm-up run failed (the model is served anyway)');
    }
  }

  async score(request: ScoreRequest): Promise<unknown> {
    const feeds = this.feedsFromBody(request.body);
    const results = await this.session.run(feeds, this.outputNames);
    if (this.outputs.length === 1) {
      const t = results[this.outputNames[0]];
      return nestedJson(t.type, t.data as ArrayLike<unknown>, t.dims);
    }
    const out: Record<string, unknown> = {};
    for (const name of this.outputNames) {
      const t = results[name];
      out[name] = nestedJson(t.type, t.data as ArrayLike<unknown>, t.dims);
    }
    return out;
  }

  schema(): { input: object; output: object } {
    const inputsSchema: JsonSchema = {
      type: 'object',
      properties: Object.fromEntries(this.inputs.map((i) => [i.name, tensorSchema(i)])),
      required: this.inputs.map((i) => i.name),
      additionalProperties: false,
    };
    const input: JsonSchema =
      this.inputs.length === 1
        ? {
            type: 'object',
            description: `Send {"data": ...} (the model's only input, "${this.inputs[0].name}") or {"inputs": {"${this.inputs[0].name}": ...}}.`,
            properties: { data: tensorSchema(this.inputs[0]), inputs: inputsSchema },
            minProperties: 1,
          }
        : {
            type: 'object',
            description: 'Send {"inputs": {"<input name>": nested array, ...}}.',
            properties: { inputs: inputsSchema },
            required: ['inputs'],
          };
    const output: JsonSchema =
      this.outputs.length === 1
        ? tensorSchema(this.outputs[0], true)
        : {
            type: 'object',
            properties: Object.fromEntries(this.outputs.map((o) => [o.name, tensorSchema(o, true)])),
          };
    return { input, output };
  }

  v2Metadata(): { inputs: TensorMetadata[]; outputs: TensorMetadata[] } {
    return { inputs: this.inputs.map(toTensorMetadata), outputs: this.outputs.map(toTensorMetadata) };
  }

  async inferV2(inputs: V2Tensor[], outputNames?: string[]): Promise<V2Tensor[]> {
    const feeds: Record<string, Tensor> = {};
    for (const t of inputs) {
      const info = this.inputByName.get(t.name);
      if (!info) {
        throw new BerthError(
          'BAD_REQUEST',
          `Unknown input "${t.name}"; the model takes ${this.inputs.map((i) => `"${i.name}"`).join(', ')}.`,
        );
      }
      const datatype = v2Datatype(info.type);
      if (t.datatype !== datatype) {
        throw new BerthError('BAD_REQUEST', `Input "${t.name}" must be ${datatype}, got ${t.datatype}.`);
      }
      checkShape(info, t.shape);
      feeds[t.name] = new this.ort.Tensor(
        info.type,
        tensorFromFlat(info.type, t.data) as Float32Array,
        t.shape,
      );
    }
    for (const info of this.inputs) {
      if (!feeds[info.name]) throw new BerthError('BAD_REQUEST', `Input "${info.name}" is missing.`);
    }
    const names = outputNames ?? this.outputNames;
    for (const name of names) {
      if (!this.outputNames.includes(name)) {
        throw new BerthError(
          'BAD_REQUEST',
          `Unknown output "${name}"; the model has ${this.outputNames.map((n) => `"${n}"`).join(', ')}.`,
        );
      }
    }
    const results = await this.session.run(feeds, names);
    return names.map((name) => {
      const t = results[name];
      return {
        name,
        datatype: v2Datatype(t.type as OrtType),
        shape: [...t.dims],
        data: jsonValues(t.type, t.data as ArrayLike<unknown>),
      };
    });
  }

  async close(): Promise<void> {
    await this.session?.release();
  }

  private feedsFromBody(body: unknown): Record<string, Tensor> {
    if (body === null || typeof body !== 'object' || Array.isArray(body) || Buffer.isBuffer(body)) {
      throw new BerthError(
        'BAD_REQUEST',
        'The request body must be a JSON object: {"data": [[...]]} or {"inputs": {...}}.',
      );
    }
    const { data, inputs } = body as { data?: unknown; inputs?: unknown };
    const feeds: Record<string, Tensor> = {};
    if (data !== undefined) {
      if (this.inputs.length !== 1) {
        throw new BerthError(
          'BAD_REQUEST',
          `The model has ${this.inputs.length} inputs, so "data" is ambiguous; send {"inputs": {${this.inputs.map((i) => `"${i.name}": ...`).join(', ')}}}.`,
        );
      }
      const info = this.inputs[0];
      feeds[info.name] = this.tensor(info, data, 'data');
      return feeds;
    }
    if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) {
      throw new BerthError(
        'BAD_REQUEST',
        'The request body needs "data" (a nested array) or "inputs" (an object of named arrays).',
      );
    }
    for (const name of Object.keys(inputs)) {
      if (!this.inputByName.has(name)) {
        throw new BerthError(
          'BAD_REQUEST',
          `Unknown input "inputs.${name}"; the model takes ${this.inputs.map((i) => `"${i.name}"`).join(', ')}.`,
        );
      }
    }
    for (const info of this.inputs) {
      const value = (inputs as Record<string, unknown>)[info.name];
      if (value === undefined) throw new BerthError('BAD_REQUEST', `Input "inputs.${info.name}" is missing.`);
      feeds[info.name] = this.tensor(info, value, `inputs.${info.name}`);
    }
    return feeds;
  }

  private tensor(info: OnnxValueInfo, value: unknown, where: string): Tensor {
    const { data, dims } = tensorFromJson(info, value, where);
    return new this.ort.Tensor(info.type, data as Exclude<TensorData, BigUint64Array>, dims);
  }

  private modelFile(): string {
    const model = this.options.models[0];
    if (!model) {
      throw new BerthError('INIT_FAILED', 'The onnx runtime needs a model, but none is served.', {
        hint: 'Give a model: berth serve --model-dir DIR (or -m NAME:VERSION).',
      });
    }
    if (this.options.models.length > 1) {
      this.options.log.warn(
        { served: this.options.models.map((m) => `${m.name}:${m.version}`) },
        'the onnx runtime serves the first model only',
      );
    }
    const stat = statSync(model.path, { throwIfNoEntry: false });
    if (!stat) throw new BerthError('INIT_FAILED', `Model folder "${model.path}" does not exist.`);
    if (!stat.isDirectory()) return model.path;
    const files = listFiles(model.path);
    const onnx = files.filter((f) => f.toLowerCase().endsWith('.onnx'));
    if (onnx.length === 1) return onnx[0];
    throw new BerthError(
      'INIT_FAILED',
      onnx.length === 0
        ? `Model "${model.name}:${model.version}" holds no .onnx file.`
        : `Model "${model.name}:${model.version}" holds ${onnx.length} .onnx files; the onnx runtime needs exactly one.`,
      {
        hint: 'Register the .onnx file alone, or use the node runtime with an entry script for several models.',
      },
    );
  }
}

function readMetadata(list: readonly InferenceSession.ValueMetadata[], what: string): OnnxValueInfo[] {
  const out: OnnxValueInfo[] = [];
  for (const m of list) {
    if (!m.isTensor) continue;
    out.push({
      name: m.name,
      type: m.type as OrtType,
      shape: m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)),
    });
  }
  if (out.length === 0 && what === 'input') {
    throw new BerthError('INIT_FAILED', 'The ONNX model has no tensor inputs; Berth cannot feed it.');
  }
  return out;
}

function checkShape(info: OnnxValueInfo, shape: readonly number[]): void {
  const ok = shape.length === info.shape.length && info.shape.every((d, i) => d < 0 || d === shape[i]);
  if (!ok) {
    const want = `[${info.shape.join(',')}]`;
    throw new BerthError(
      'BAD_REQUEST',
      `Input "${info.name}" has shape [${shape.join(',')}] but the model expects ${want} (-1 = any size).`,
    );
  }
}
