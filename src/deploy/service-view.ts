import type { ComputeType, DeploymentConfig } from '../core/config/deployment-config.js';
import type { InferenceConfig, RuntimeName } from '../core/config/inference-config.js';
import type { ServiceCondition, ServiceRecord, ServiceState, UpdateOutcome } from '../store/service-store.js';
import { LOCAL_SERVICE_HOST } from './build-serve-spec.js';

/**
 * A service as the CLI (`--json`), the API and the SDK show it. Keys are never part of it
 * (`berth service keys`). `models`, `inferenceConfig` and `deploymentConfig` are what the
 * replicas serve, or are being moved to.
 */
export interface ServiceView {
  name: string;
  state: ServiceState;
  scoringUri: string;
  swaggerUri: string;
  models: string[];
  computeType: ComputeType;
  runtime: RuntimeName;
  replicas: { desired: number; ready: number };
  authEnabled: boolean;
  port: number;
  createdAt: string;
  updatedAt: string;
  /** The latest failure (deploy, update, crash), or null. */
  error: string | null;
  /** Increments with every change of the desired state. */
  generation: number;
  /** Highest generation whose outcome is known (serving, or failed). */
  observedGeneration: number;
  lastUpdate: UpdateOutcome | null;
  conditions: ServiceCondition[];
  /** Replica process restarts done by the control plane. */
  restarts: number;
  /** Pid of the replica process (local target), or null. */
  pid: number | null;
  /** Where scored inputs/outputs are appended, when dataCollection.storageEnabled. */
  dataCollectionDir: string | null;
  tags: Record<string, string>;
  properties: Record<string, string>;
  description: string | null;
  inferenceConfig: InferenceConfig;
  /** The deployment config, keys left out. */
  deploymentConfig: Omit<DeploymentConfig, 'keys'>;
}

export interface ServiceKeysView {
  primaryKey: string;
  secondaryKey: string;
}

/** The base URL of a service running on Kubernetes: its ClusterIP Service (port 80), in-cluster DNS. */
export function kubernetesServiceBase(name: string, namespace = 'default'): string {
  return `http://${name}.${namespace}.svc.cluster.local`;
}

/** Renders a stored service (`dataDir` = where the target collects data). */
export function toServiceView(record: ServiceRecord, dataDir?: string): ServiceView {
  const d = record.desired;
  const base =
    record.computeType === 'kubernetes'
      ? kubernetesServiceBase(record.name, d.namespace)
      : `http://${LOCAL_SERVICE_HOST}:${d.port}`;
  const { keys: _keys, ...deploymentConfig } = d.deploymentConfig;
  const s = record.status;
  return {
    name: record.name,
    state: s.state,
    scoringUri: `${base}/score`,
    swaggerUri: `${base}/swagger.json`,
    models: d.models,
    computeType: record.computeType,
    runtime: d.inferenceConfig.runtime,
    replicas: s.replicas,
    authEnabled: d.deploymentConfig.authEnabled,
    port: d.port,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    error: s.error ?? null,
    generation: record.generation,
    observedGeneration: s.observedGeneration,
    lastUpdate: s.lastUpdate ?? null,
    conditions: s.conditions,
    restarts: s.restarts,
    pid: s.process?.pid ?? null,
    dataCollectionDir: d.deploymentConfig.dataCollection?.storageEnabled && dataDir ? dataDir : null,
    tags: d.deploymentConfig.tags ?? {},
    properties: d.deploymentConfig.properties ?? {},
    description: d.deploymentConfig.description ?? null,
    inferenceConfig: d.inferenceConfig,
    deploymentConfig,
  };
}
