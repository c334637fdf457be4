import { dirname, extname, resolve } from 'node:path';
import { BerthError } from '../errors.js';
import { readJsonConfigFile, validateConfig } from './validate-config.js';

export type RuntimeName = 'onnx' | 'node' | 'python';

/**
 * How to score a model (`inferenceconfig.json`). Field names follow the seed system's CLI
 * (`entryScript`, `runtime`, `sourceDirectory`, `condaFile`, ...), plus `schema` and `dependencies`.
 */
export interface InferenceConfig {
  runtime: RuntimeName;
  /** Path of the entry script, relative to `sourceDirectory` (or to the config file when there is none). */
  entryScript?: string;
  /** Folder holding the entry script and its assets; absolute after loading. */
  sourceDirectory?: string;
  /** Python runtime: conda environment file listing pip packages. */
  condaFile?: string;
  /** Node runtime: package.json-style dependencies installed into a cached environment. */
  dependencies?: Record<string, string>;
  /** Input/output samples or JSON Schemas for validation and the OpenAPI document. */
  schema?: { input?: unknown; output?: unknown };
  /** Python runtime: interpreter to use (default: BERTH_PYTHON, else python3 on PATH). */
  pythonInterpreter?: string;
  /** Python runtime: worker processes per replica (default 1). */
  workersPerReplica?: number;
  /** Packaging: base image of the generated Dockerfile. */
  baseImage?: string;
  baseImageRegistry?: unknown;
  extraDockerfileSteps?: string;
  enableGpu?: boolean;
  description?: string;
}

export const INFERENCE_CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    runtime: { type: 'string', enum: ['onnx', 'node', 'python'] },
    entryScript: { type: 'string', minLength: 1 },
    sourceDirectory: { type: 'string', minLength: 1 },
    condaFile: { type: 'string', minLength: 1 },
    dependencies: { type: 'object', additionalProperties: { type: 'string' } },
    schema: {
      type: 'object',
      additionalProperties: false,
      properties: { input: {}, output: {} },
    },
    pythonInterpreter: { type: 'string', minLength: 1 },
    workersPerReplica: { type: 'integer', minimum: 1, maximum: 64 },
    baseImage: { type: 'string' },
    baseImageRegistry: {},
    extraDockerfileSteps: { type: 'string' },
    enableGpu: { type: 'boolean' },
    description: { type: 'string' },
  },
} as const;

function inferRuntime(entryScript: string | undefined): RuntimeName {
  if (!entryScript) return 'onnx';
  const ext = extname(entryScript).toLowerCase();
  if (ext === '.py') return 'python';
  return 'node';
}

/**
 * Validates a parsed inference config and makes its paths absolute against `baseDir`
 * (the folder of the config file). The result is frozen.
 * @throws INVALID_CONFIG on a schema violation or a runtime that needs an entry script without one.
 */
export function parseInferenceConfig(
  raw: unknown,
  baseDir: string,
  what = 'inference config',
): InferenceConfig {
  const value = validateConfig<Partial<InferenceConfig>>(INFERENCE_CONFIG_SCHEMA, raw, what);
  const runtime = value.runtime ?? inferRuntime(value.entryScript);
  if ((runtime === 'node' || runtime === 'python') && !value.entryScript) {
    throw new BerthError('INVALID_CONFIG', `${what} is invalid: runtime "${runtime}" needs "entryScript".`, {
      hint: 'Name the entry script, e.g. "entryScript": "score.js", or use "runtime": "onnx" for no code.',
    });
  }
  const sourceDirectory = value.sourceDirectory ? resolve(baseDir, value.sourceDirectory) : undefined;
  const codeDir = sourceDirectory ?? baseDir;
  const config: InferenceConfig = {
    ...value,
    runtime,
    sourceDirectory,
    entryScript: value.entryScript ? resolve(codeDir, value.entryScript) : undefined,
    condaFile: value.condaFile ? resolve(codeDir, value.condaFile) : undefined,
  };
  return Object.freeze(config);
}

/** Reads, validates and resolves an `inferenceconfig.json` file. */
export function loadInferenceConfig(path: string): InferenceConfig {
  const abs = resolve(path);
  return parseInferenceConfig(
    readJsonConfigFile(abs, 'inferenceconfig.json'),
    dirname(abs),
    `inferenceconfig.json ("${path}")`,
  );
}
