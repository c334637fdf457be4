import { SERVE_DEFAULTS } from '../serving/serve-defaults.js';
import type { ServedModel, ServeSpec } from '../serving/serve-spec.js';
import type { ServiceDesired } from '../store/service-store.js';
import type { ServicePaths } from './service-paths.js';

/** Host local services listen on. */
export const LOCAL_SERVICE_HOST = '127.0.0.1';

/** Autoscaler defaults where the deployment config leaves a bound out (the seed system's defaults). */
export const AUTOSCALE_DEFAULTS = {
  minReplicas: 1,
  maxReplicas: 10,
  targetUtilization: 70, // percent of maxConcurrentRequestsPerContainer in use
  refreshPeriodInSeconds: 1,
} as const;

export interface BuildServeSpecInput {
  name: string;
  desired: ServiceDesired;
  models: ServedModel[];
  paths: ServicePaths;
  environmentDir?: string;
}

/** Maps a service's desired state onto the ServeSpec its replica process reads (pure). */
export function buildServeSpec(input: BuildServeSpecInput): ServeSpec {
  const { desired, paths } = input;
  const dc = desired.deploymentConfig;
  const a = dc.autoScaler;
  const autoscale = a?.autoscaleEnabled
    ? (() => {
        const minReplicas = a.minReplicas ?? AUTOSCALE_DEFAULTS.minReplicas;
        return {
          minReplicas,
          maxReplicas: Math.max(minReplicas, a.maxReplicas ?? AUTOSCALE_DEFAULTS.maxReplicas),
          targetUtilization: a.targetUtilization ?? AUTOSCALE_DEFAULTS.targetUtilization,
          refreshPeriodInSeconds: a.refreshPeriodInSeconds ?? AUTOSCALE_DEFAULTS.refreshPeriodInSeconds,
        };
      })()
    : undefined;
  const replicas = autoscale
    ? Math.min(autoscale.maxReplicas, Math.max(autoscale.minReplicas, dc.numReplicas))
    : dc.numReplicas;
  const spec: ServeSpec = {
    name: input.name,
    models: input.models,
    inferenceConfig: desired.inferenceConfig,
    host: LOCAL_SERVICE_HOST,
    port: desired.port,
    replicas,
    limits: {
      ...SERVE_DEFAULTS,
      scoringTimeoutMs: dc.scoringTimeoutMs,
      maxConcurrentRequestsPerContainer: dc.maxConcurrentRequestsPerContainer,
      maxQueueWaitMs: dc.maxQueueWaitMs,
    },
    logFile: paths.logFile,
    logFileOnly: true,
    stateFile: paths.stateFile,
  };
  if (autoscale) spec.autoscale = autoscale;
  if (dc.authEnabled) spec.keys = [desired.keys.primaryKey, desired.keys.secondaryKey];
  if (dc.dataCollection?.storageEnabled) spec.dataCollectionDir = paths.dataDir;
  if (input.environmentDir) spec.environmentDir = input.environmentDir;
  return spec;
}
