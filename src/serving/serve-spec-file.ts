import { dirname, resolve } from 'node:path';
import { parseInferenceConfig } from '../core/config/inference-config.js';
import { readJsonConfigFile, validateConfig } from '../core/config/validate-config.js';
import { BerthError } from '../core/errors.js';
import { DEFAULT_SERVE_PORT, withServeDefaults } from './serve-defaults.js';
import type { ServeSpec } from './serve-spec.js';
import { writeJsonAtomic } from './state-file.js';

const positiveInt = { type: 'integer', minimum: 1 } as const;

/** JSON Schema of a ServeSpec file (what `berth serve --spec FILE` reads). */
export const SERVE_SPEC_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'models', 'inferenceConfig'],
  properties: {
    name: { type: 'string', minLength: 1 },
    models: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'version', 'path'],
        properties: {
          name: { type: 'string', minLength: 1 },
          version: positiveInt,
          path: { type: 'string', minLength: 1 },
        },
      },
    },
    inferenceConfig: { type: 'object' },
    host: { type: 'string', minLength: 1 },
    port: { type: 'integer', minimum: 0, maximum: 65535 },
    replicas: { type: 'integer', minimum: 1, maximum: 64 },
    autoscale: {
      type: 'object',
      additionalProperties: false,
      required: ['minReplicas', 'maxReplicas'],
      properties: {
        minReplicas: { type: 'integer', minimum: 1, maximum: 64 },
        maxReplicas: { type: 'integer', minimum: 1, maximum: 64 },
        targetUtilization: { type: 'number', exclusiveMinimum: 0, maximum: 100 },
        refreshPeriodInSeconds: { type: 'number', exclusiveMinimum: 0 },
      },
    },
    limits: {
      type: 'object',
      additionalProperties: false,
      properties: {
        scoringTimeoutMs: positiveInt,
        initTimeoutMs: positiveInt,
        maxConcurrentRequestsPerContainer: positiveInt,
        maxQueueWaitMs: { type: 'integer', minimum: 0 },
        maxBodyBytes: positiveInt,
      },
    },
    keys: { type: 'array', items: { type: 'string', minLength: 1 } },
    tls: {
      type: 'object',
      additionalProperties: false,
      required: ['certFile', 'keyFile'],
      properties: { certFile: { type: 'string', minLength: 1 }, keyFile: { type: 'string', minLength: 1 } },
    },
    logFile: { type: 'string', minLength: 1 },
    logFileOnly: { type: 'boolean' },
    stateFile: { type: 'string', minLength: 1 },
    dataCollectionDir: { type: 'string', minLength: 1 },
    environmentDir: { type: 'string', minLength: 1 },
    debug: { type: 'boolean' },
  },
} as const;

/** Autoscale defaults when a spec gives only the bounds. */
const AUTOSCALE_DEFAULTS = { targetUtilization: 70, refreshPeriodInSeconds: 10 } as const;

/**
 * Validates a parsed ServeSpec, fills defaults (host 127.0.0.1, port 5001, 1 replica, SERVE_DEFAULTS
 * limits) and makes its paths absolute against `baseDir`. The result is frozen.
 * @throws INVALID_CONFIG naming the failing JSON path.
 */
export function parseServeSpec(raw: unknown, baseDir: string, what = 'serve spec'): ServeSpec {
  const value = validateConfig<ServeSpec>(SERVE_SPEC_SCHEMA, raw, what);
  const abs = (p: string | undefined) => (p === undefined ? undefined : resolve(baseDir, p));
  const autoscale = value.autoscale && { ...AUTOSCALE_DEFAULTS, ...value.autoscale };
  if (autoscale && autoscale.minReplicas > autoscale.maxReplicas) {
    throw new BerthError(
      'INVALID_CONFIG',
      `${what} is invalid: "autoscale.minReplicas" is above "autoscale.maxReplicas".`,
      {
        hint: 'Make minReplicas <= maxReplicas.',
      },
    );
  }
  const spec: ServeSpec = {
    ...value,
    models: value.models.map((m) => ({ ...m, path: resolve(baseDir, m.path) })),
    inferenceConfig: parseInferenceConfig(value.inferenceConfig, baseDir, `${what}: inferenceConfig`),
    host: value.host ?? '127.0.0.1',
    port: value.port ?? DEFAULT_SERVE_PORT,
    replicas: value.replicas ?? 1,
    autoscale,
    limits: withServeDefaults(value.limits),
    tls: value.tls && {
      certFile: resolve(baseDir, value.tls.certFile),
      keyFile: resolve(baseDir, value.tls.keyFile),
    },
    logFile: abs(value.logFile),
    stateFile: abs(value.stateFile),
    dataCollectionDir: abs(value.dataCollectionDir),
    environmentDir: abs(value.environmentDir),
  };
  for (const key of Object.keys(spec) as (keyof ServeSpec)[]) if (spec[key] === undefined) delete spec[key];
  return Object.freeze(spec);
}

/**
 * Reads and validates a ServeSpec JSON file; relative paths inside it are resolved against its folder.
 * @throws PATH_NOT_FOUND when the file cannot be read; INVALID_CONFIG when it is not a valid spec.
 */
export function readServeSpecFile(path: string): ServeSpec {
  const abs = resolve(path);
  return parseServeSpec(readJsonConfigFile(abs, 'serve spec'), dirname(abs), `serve spec ("${path}")`);
}

/** Writes a ServeSpec file atomically (what the deploy layer hands to `berth serve --spec`). */
export function writeServeSpecFile(path: string, spec: ServeSpec): void {
  writeJsonAtomic(path, spec);
}
