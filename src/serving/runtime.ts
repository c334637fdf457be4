import type { Logger } from 'pino';
import type { InferenceConfig } from '../core/config/inference-config.js';
import type { ServedModel } from './serve-spec.js';

/** What an entry script (or a runtime) sees: `ctx.modelPath` is the seed's `Model.get_model_path`. */
export interface ScoringContext {
  /** Path of a served model's file (the single file) or folder; latest served version when `version` is absent. */
  modelPath(name: string, version?: number): string;
  log: Logger;
  models: readonly ServedModel[];
}

/** A scoring request as a runtime receives it. */
export interface ScoreRequest {
  /** Parsed JSON, or the raw bytes for `application/octet-stream`. */
  body: unknown;
  /** The raw body as received (python's run(raw) wants the posted string). */
  raw: Buffer;
  contentType: string;
}

/** An Open Inference Protocol tensor (KServe V2). */
export interface V2Tensor {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
  parameters?: Record<string, unknown>;
}

export interface TensorMetadata {
  name: string;
  datatype: string;
  /** -1 for a symbolic or dynamic dimension. */
  shape: number[];
}

/**
 * Executes scoring inside one replica process. Implementations: runtimes/onnx, runtimes/node, runtimes/python.
 * `load` runs once per replica (init); `score` per request and may run concurrently.
 */
export interface Runtime {
  readonly name: 'onnx' | 'node' | 'python';
  /** Loads the model / entry script. Throws BerthError INIT_FAILED, ENTRY_SCRIPT_NOT_FOUND or ENTRY_SCRIPT_INVALID. */
  load(): Promise<void>;
  /** Scores one request; resolves to a JSON-serialisable value. Throws BerthError BAD_REQUEST or SCORING_FAILED. */
  score(request: ScoreRequest): Promise<unknown>;
  /** Input/output JSON Schemas for the OpenAPI document and validation, when known. */
  schema(): { input?: object; output?: object } | undefined;
  /** V2 metadata (tensor names, types, shapes) when the runtime knows them. */
  v2Metadata?(): { inputs: TensorMetadata[]; outputs: TensorMetadata[] };
  /** V2 inference with typed tensors. */
  inferV2?(inputs: V2Tensor[], outputNames?: string[]): Promise<V2Tensor[]>;
  /** Frees native resources and child processes. */
  close(): Promise<void>;
}

export interface RuntimeFactoryOptions {
  config: InferenceConfig;
  models: ServedModel[];
  log: Logger;
  limits: { scoringTimeoutMs: number; initTimeoutMs: number };
  environmentDir?: string;
}
