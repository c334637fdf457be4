import { resolve } from 'node:path';
import { BerthError } from '../errors.js';
import { readJsonConfigFile, validateConfig } from './validate-config.js';

export type ComputeType = 'local' | 'kubernetes';

/**
 * Where and how to run a service (`deploymentconfig.json`), with the seed system's CLI field names
 * so its files work unchanged. Kubernetes-only fields are accepted and shown; where a local
 * meaning exists it is applied.
 */
export interface DeploymentConfig {
  computeType: ComputeType;
  /** Local target: port the service listens on (0 or absent = pick a free one). */
  port?: number;
  numReplicas: number;
  containerResourceRequirements?: { cpu?: number; memoryInGB?: number };
  authEnabled: boolean;
  keys?: { primaryKey?: string; secondaryKey?: string };
  scoringTimeoutMs: number;
  maxConcurrentRequestsPerContainer: number;
  maxQueueWaitMs: number;
  autoScaler?: {
    autoscaleEnabled?: boolean;
    minReplicas?: number;
    maxReplicas?: number;
    targetUtilization?: number;
    refreshPeriodInSeconds?: number;
  };
  dataCollection?: { storageEnabled?: boolean };
  appInsightsEnabled?: boolean;
  tags?: Record<string, string>;
  properties?: Record<string, string>;
  description?: string;
}

export const DEPLOYMENT_DEFAULTS = {
  computeType: 'local' as ComputeType,
  numReplicas: 1,
  authEnabled: false,
  scoringTimeoutMs: 60_000, // 60 s, as the seed system's default
  maxConcurrentRequestsPerContainer: 1_000, // requests in flight per replica before queueing
  maxQueueWaitMs: 500, // 0.5 s in the queue, then 503
} as const;

const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;

export const DEPLOYMENT_CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    computeType: {
      type: 'string',
      enum: ['local', 'kubernetes', 'LOCAL', 'Local', 'aks', 'AKS', 'aci', 'ACI'],
    },
    port: { type: 'integer', minimum: 0, maximum: 65535 },
    numReplicas: { type: 'integer', minimum: 1, maximum: 64 },
    containerResourceRequirements: {
      type: 'object',
      additionalProperties: false,
      properties: {
        cpu: { type: 'number', exclusiveMinimum: 0 },
        memoryInGB: { type: 'number', exclusiveMinimum: 0 },
        cpuLimit: { type: 'number', exclusiveMinimum: 0 },
        memoryInGBLimit: { type: 'number', exclusiveMinimum: 0 },
        gpu: { type: 'integer', minimum: 0 },
      },
    },
    authEnabled: { type: 'boolean' },
    keys: {
      type: 'object',
      additionalProperties: false,
      properties: {
        primaryKey: { type: 'string', minLength: 8 },
        secondaryKey: { type: 'string', minLength: 8 },
      },
    },
    scoringTimeoutMs: { type: 'integer', minimum: 1, maximum: 3_600_000 },
    maxConcurrentRequestsPerContainer: { type: 'integer', minimum: 1, maximum: 100_000 },
    maxQueueWaitMs: { type: 'integer', minimum: 0, maximum: 3_600_000 },
    autoScaler: {
      type: 'object',
      additionalProperties: false,
      properties: {
        autoscaleEnabled: { type: 'boolean' },
        minReplicas: { type: 'integer', minimum: 1, maximum: 64 },
        maxReplicas: { type: 'integer', minimum: 1, maximum: 64 },
        targetUtilization: { type: 'integer', minimum: 1, maximum: 100 },
        refreshPeriodInSeconds: { type: 'integer', minimum: 1 },
      },
    },
    dataCollection: {
      type: 'object',
      additionalProperties: false,
      properties: { storageEnabled: { type: 'boolean' } },
    },
    appInsightsEnabled: { type: 'boolean' },
    tags: stringMap,
    properties: stringMap,
    description: { type: 'string' },
  },
} as const;

/**
 * Validates a parsed deployment config and fills defaults. The result is frozen.
 * @throws INVALID_CONFIG on a schema violation; NOT_SUPPORTED for ACI.
 */
export function parseDeploymentConfig(raw: unknown, what = 'deployment config'): DeploymentConfig {
  const value = validateConfig<Partial<DeploymentConfig> & { computeType?: string }>(
    DEPLOYMENT_CONFIG_SCHEMA,
    raw ?? {},
    what,
  );
  const ct = (value.computeType ?? 'local').toLowerCase();
  if (ct === 'aci') {
    throw new BerthError(
      'NOT_SUPPORTED',
      `${what}: computeType "aci" (Azure Container Instances) is not a Berth target.`,
      {
        hint: 'Use "computeType": "local", or "kubernetes" for a cluster.',
      },
    );
  }
  const computeType: ComputeType = ct === 'aks' ? 'kubernetes' : (ct as ComputeType);
  const a = value.autoScaler;
  if (a?.minReplicas !== undefined && a.maxReplicas !== undefined && a.minReplicas > a.maxReplicas) {
    throw new BerthError(
      'INVALID_CONFIG',
      `${what} is invalid: "autoScaler.minReplicas" is above "autoScaler.maxReplicas".`,
      {
        hint: 'Make minReplicas <= maxReplicas.',
      },
    );
  }
  return Object.freeze({ ...DEPLOYMENT_DEFAULTS, ...value, computeType });
}

/** Reads, validates and fills a `deploymentconfig.json` file. */
export function loadDeploymentConfig(path: string): DeploymentConfig {
  return parseDeploymentConfig(
    readJsonConfigFile(resolve(path), 'deploymentconfig.json'),
    `deploymentconfig.json ("${path}")`,
  );
}
