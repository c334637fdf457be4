import { BerthError } from '../../core/errors.js';
import { jsonReply, type Reply, v2ErrorReply } from '../routes/http-reply.js';
import type { PostRequestInfo, PostRoute } from '../routes/post-route.js';
import type { Runtime, TensorMetadata, V2Tensor } from '../runtime.js';
import type { ServedModel, ServeSpec } from '../serve-spec.js';
import { nest, parseInferenceRequest, tensorFromValue } from './v2-tensors.js';

/** A parsed `/v2/...` path. */
export type V2Path =
  | { kind: 'server' }
  | { kind: 'live' }
  | { kind: 'ready' }
  | { kind: 'model' | 'model-ready' | 'infer'; name: string; version?: string }
  | { kind: 'unknown' };

/** Route labels (metrics, logs) of the V2 paths. */
export const V2_ROUTE_LABELS: Record<V2Path['kind'], string> = {
  server: '/v2',
  live: '/v2/health/live',
  ready: '/v2/health/ready',
  model: '/v2/models/{name}',
  'model-ready': '/v2/models/{name}/ready',
  infer: '/v2/models/{name}/infer',
  unknown: 'unknown',
};

/** Splits `/v2/...` into what it asks for (paths of the Open Inference Protocol's REST API). */
export function parseV2Path(path: string): V2Path {
  const parts = path.split('/');
  // parts[0] = '', parts[1] = 'v2'
  if (parts.length === 2 || (parts.length === 3 && parts[2] === '')) return { kind: 'server' };
  if (parts[2] === 'health' && parts.length === 4) {
    if (parts[3] === 'live') return { kind: 'live' };
    if (parts[3] === 'ready') return { kind: 'ready' };
    return { kind: 'unknown' };
  }
  if (parts[2] !== 'models' || parts.length < 4 || parts[3] === '') return { kind: 'unknown' };
  let name: string;
  try {
    name = decodeURIComponent(parts[3]);
  } catch {
    return { kind: 'unknown' };
  }
  let rest = parts.slice(4);
  let version: string | undefined;
  if (rest[0] === 'versions' && rest.length >= 2) {
    version = decodeURIComponent(rest[1]);
    rest = rest.slice(2);
  }
  if (rest.length === 0 || (rest.length === 1 && rest[0] === '')) return { kind: 'model', name, version };
  if (rest.length === 1 && rest[0] === 'ready') return { kind: 'model-ready', name, version };
  if (rest.length === 1 && rest[0] === 'infer') return { kind: 'infer', name, version };
  return { kind: 'unknown' };
}

const PLATFORMS: Record<Runtime['name'], string> = {
  onnx: 'onnxruntime_onnx',
  node: 'berth_node',
  python: 'berth_python',
};

/**
 * The Open Inference Protocol (KServe V2) face of a scoring server. `{name}` is a served model's
 * name (the service name when no model is served); every error body is `{"error": "<message>"}`.
 * Runtimes without typed tensors (node, python) get the inputs as `{"<input name>": nested array}`
 * through their normal `score`, and their result becomes output tensors (`output0` for an array,
 * one per key for an object).
 */
export class V2Routes implements PostRoute {
  readonly route = V2_ROUTE_LABELS.infer;

  constructor(
    private readonly spec: ServeSpec,
    private readonly runtime: Runtime,
    private readonly serverVersion: string,
  ) {}

  /** The served model a V2 path names, or the 404 reply when there is none. */
  findModel(name: string, version: string | undefined): ServedModel | Reply {
    const models: ServedModel[] =
      this.spec.models.length > 0 ? this.spec.models : [{ name: this.spec.name, version: 1, path: '' }];
    const named = models.filter((m) => m.name === name);
    if (named.length === 0) {
      return v2ErrorReply(
        404,
        `Model "${name}" is not served here; served: ${[...new Set(models.map((m) => m.name))].join(', ')}.`,
      );
    }
    if (version === undefined) return named.reduce((a, b) => (b.version > a.version ? b : a));
    const match = named.find((m) => String(m.version) === version);
    return (
      match ??
      v2ErrorReply(
        404,
        `Model "${name}" version "${version}" is not served here; served versions: ${named.map((m) => m.version).join(', ')}.`,
      )
    );
  }

  serverMetadata(): Reply {
    return jsonReply(200, { name: 'berth', version: this.serverVersion, extensions: [] });
  }

  modelMetadata(model: ServedModel): Reply {
    const meta = this.tensorMetadata();
    return jsonReply(200, {
      name: model.name,
      versions: this.spec.models.filter((m) => m.name === model.name).map((m) => String(m.version)),
      platform: PLATFORMS[this.runtime.name],
      inputs: meta.inputs,
      outputs: meta.outputs,
    });
  }

  modelReady(model: ServedModel, ready: boolean): Reply {
    return ready
      ? jsonReply(200, { name: model.name, ready: true })
      : v2ErrorReply(503, `Model "${model.name}" is not ready yet.`);
  }

  async handle(raw: Buffer, info: PostRequestInfo): Promise<unknown> {
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      throw new BerthError('BAD_REQUEST', `The request body is not valid JSON: ${(err as Error).message}.`);
    }
    const request = parseInferenceRequest(body);
    const outputs = this.runtime.inferV2
      ? await this.runtime.inferV2(request.inputs, request.outputs)
      : await this.inferByScore(request.inputs, request.outputs);
    const model = info.model;
    const response: Record<string, unknown> = {
      model_name: model?.name ?? this.spec.name,
      model_version: model ? String(model.version) : undefined,
      outputs,
    };
    if (request.id !== undefined) response.id = request.id;
    return response;
  }

  reply(value: unknown): Reply {
    return jsonReply(200, value);
  }

  error(err: BerthError, _debug: boolean, headers?: Record<string, string>): Reply {
    const reply = v2ErrorReply(err.status, err.message);
    if (headers) reply.headers = headers;
    return reply;
  }

  private tensorMetadata(): { inputs: TensorMetadata[]; outputs: TensorMetadata[] } {
    return this.runtime.v2Metadata?.() ?? { inputs: [], outputs: [] };
  }

  private async inferByScore(inputs: V2Tensor[], outputNames: string[] | undefined): Promise<V2Tensor[]> {
    const body: Record<string, unknown> = {};
    for (const t of inputs) body[t.name] = nest(t.data, t.shape);
    const raw = Buffer.from(JSON.stringify(body));
    const result = await this.runtime.score({ body, raw, contentType: 'application/json' });
    let tensors: V2Tensor[];
    if (result !== null && typeof result === 'object' && !Array.isArray(result)) {
      tensors = Object.entries(result as Record<string, unknown>).map(([name, v]) =>
        tensorFromValue(name, v),
      );
    } else {
      tensors = [tensorFromValue('output0', result)];
    }
    if (!outputNames) return tensors;
    return outputNames.map((name) => {
      const t = tensors.find((x) => x.name === name);
      if (!t) {
        throw new BerthError(
          'BAD_REQUEST',
          `Unknown output "${name}"; the result has ${tensors.map((x) => `"${x.name}"`).join(', ')}.`,
        );
      }
      return t;
    });
  }
}
