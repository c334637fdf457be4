import { createHash } from 'node:crypto';
import type { IDeployment } from 'kubernetes-models/apps/v1';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import type { IConfigMap, ISecret, IService } from 'kubernetes-models/v1';
import type { DeploymentConfig } from '../../../core/config/deployment-config.js';
import type { InferenceConfig } from '../../../core/config/inference-config.js';
import { SERVE_DEFAULTS } from '../../../serving/serve-defaults.js';
import type { ServeSpec } from '../../../serving/serve-spec.js';
import { planCodeLayout } from '../../packaging/portable-inference-config.js';
import { FETCH_MODELS_SCRIPT, MODEL_FILE_ROUTE, type ModelFetchPlan } from './fetch-models-script.js';
import { assertKubernetesName, objectNames, ownerLabels } from './kubernetes-names.js';

/** Port the server container listens on (the Service maps port 80 to it). */
export const CONTAINER_PORT = 5001;
/** Where the image built from a service package keeps its files (Dockerfile WORKDIR). */
export const IMAGE_APP_DIR = '/app';
const CONFIG_MOUNT = '/etc/berth';
const MODELS_MOUNT = '/var/lib/berth/models';
const RUN_MOUNT = '/var/run/berth';

/** Resource defaults when `containerResourceRequirements` leaves them out (the seed's AKS defaults). */
export const KUBERNETES_RESOURCE_DEFAULTS = {
  cpu: 0.1, // cores requested
  memoryInGB: 0.5, // GB requested
} as const;

/** Autoscaler defaults where `autoScaler` leaves a bound out (the seed system's defaults). */
export const KUBERNETES_AUTOSCALE_DEFAULTS = {
  minReplicas: 1,
  maxReplicas: 10,
  targetUtilization: 70, // percent of the requested CPU
  refreshPeriodInSeconds: 1,
} as const;

/** A model version as the manifests need it: id, sha256 and every file's sha256 (from the registry). */
export interface ManifestModel {
  name: string;
  version: number;
  sha256: string;
  files: { path: string; sha256: string; size: number }[];
}

/** Where the pods get the model files from. */
export type ModelSource =
  /** The init container downloads them from the workspace's management API (reachable from the cluster). */
  | { kind: 'api'; workspaceUrl: string; token?: string }
  /** They are inside the image built from the service package; the init container only verifies them. */
  | { kind: 'image' };

/** Everything the manifests of one service are computed from (pure input). */
export interface KubernetesServiceInput {
  name: string;
  namespace: string;
  /** Image of the init and server containers: built from the service package (`berth service package`). */
  image: string;
  models: ManifestModel[];
  /** The service's inference config as loaded (absolute paths); the image holds the code under /app/code. */
  inferenceConfig: InferenceConfig;
  deploymentConfig: DeploymentConfig;
  keys?: { primaryKey: string; secondaryKey: string };
  modelSource: ModelSource;
  /** Extra labels for every object (e.g. the deployment config's tags); never replace the owner labels. */
  labels?: Record<string, string>;
}

export interface KubernetesManifests {
  configMap: IConfigMap;
  /** Present when auth is on or the init container needs a workspace token. */
  secret?: ISecret;
  deployment: IDeployment;
  service: IService;
  /** Present when `autoScaler.autoscaleEnabled` is true. */
  hpa?: IHorizontalPodAutoscaler;
}

/** All objects in apply order (config first, so pods never start without it). */
export function manifestList(
  m: KubernetesManifests,
): (IConfigMap | ISecret | IDeployment | IService | IHorizontalPodAutoscaler)[] {
  return [m.configMap, ...(m.secret ? [m.secret] : []), m.deployment, m.service, ...(m.hpa ? [m.hpa] : [])];
}

function quantityCpu(cores: number): string {
  return `${Math.max(1, Math.round(cores * 1000))}m`;
}

function quantityMemory(gb: number): string {
  return `${Math.max(1, Math.round(gb * 1024))}Mi`;
}

function hash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}

/**
 * Computes the Kubernetes objects of a service (pure: same input, same objects): a ConfigMap with
 * the inference config, the serve.json template, the model plan and the init program; a Secret
 * with the keys; a Deployment (init container fetching and verifying the models, server running
 * `berth serve`, probes on /health/ready and /health/live, RollingUpdate with maxUnavailable 0);
 * a Service; and an autoscaling/v2 HorizontalPodAutoscaler when autoscaling is on.
 * @throws INVALID_NAME when the service name is not a Kubernetes name.
 */
export function buildKubernetesManifests(input: KubernetesServiceInput): KubernetesManifests {
  assertKubernetesName(input.name);
  const names = objectNames(input.name);
  const dc = input.deploymentConfig;
  const labels = { ...(input.labels ?? {}), ...ownerLabels(input.name) };
  const meta = (name: string) => ({ name, namespace: input.namespace, labels });

  const layout = planCodeLayout(input.inferenceConfig, `${IMAGE_APP_DIR}/code`);
  const autoscale = dc.autoScaler?.autoscaleEnabled
    ? {
        minReplicas: dc.autoScaler.minReplicas ?? KUBERNETES_AUTOSCALE_DEFAULTS.minReplicas,
        maxReplicas: Math.max(
          dc.autoScaler.minReplicas ?? KUBERNETES_AUTOSCALE_DEFAULTS.minReplicas,
          dc.autoScaler.maxReplicas ?? KUBERNETES_AUTOSCALE_DEFAULTS.maxReplicas,
        ),
        targetUtilization: dc.autoScaler.targetUtilization ?? KUBERNETES_AUTOSCALE_DEFAULTS.targetUtilization,
        refreshPeriodInSeconds:
          dc.autoScaler.refreshPeriodInSeconds ?? KUBERNETES_AUTOSCALE_DEFAULTS.refreshPeriodInSeconds,
      }
    : undefined;

  // One server process per pod: Kubernetes scales pods, not workers inside them.
  const serveTemplate: Omit<ServeSpec, 'models'> & { models: [] } = {
    name: input.name,
    models: [],
    inferenceConfig: layout.config,
    host: '0.0.0.0',
    port: CONTAINER_PORT,
    replicas: 1,
    limits: {
      ...SERVE_DEFAULTS,
      scoringTimeoutMs: dc.scoringTimeoutMs,
      maxConcurrentRequestsPerContainer: dc.maxConcurrentRequestsPerContainer,
      maxQueueWaitMs: dc.maxQueueWaitMs,
    },
  };
  const plan: ModelFetchPlan = {
    source: input.modelSource.kind,
    route: MODEL_FILE_ROUTE,
    models: input.models.map((m) => ({
      name: m.name,
      version: m.version,
      sha256: m.sha256,
      dir:
        input.modelSource.kind === 'api'
          ? `${MODELS_MOUNT}/${m.name}/${m.version}`
          : `${IMAGE_APP_DIR}/models/${m.name}/${m.version}`,
      files: m.files.map((f) => ({ path: f.path, sha256: f.sha256, size: f.size })),
    })),
  };
  const configData = {
    'inferenceconfig.json': `${JSON.stringify(layout.config, null, 2)}\n`,
    'serve.json': `${JSON.stringify(serveTemplate, null, 2)}\n`,
    'models.json': `${JSON.stringify(plan, null, 2)}\n`,
    'fetch-models.mjs': FETCH_MODELS_SCRIPT,
  };
  const configMap: IConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(names.configMap),
    data: configData,
  };

  const secretData: Record<string, string> = {};
  if (dc.authEnabled && input.keys) {
    secretData.primaryKey = input.keys.primaryKey;
    secretData.secondaryKey = input.keys.secondaryKey;
  }
  if (input.modelSource.kind === 'api' && input.modelSource.token)
    secretData.workspaceToken = input.modelSource.token;
  const secret: ISecret | undefined =
    Object.keys(secretData).length > 0
      ? {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: meta(names.secret),
          type: 'Opaque',
          stringData: secretData,
        }
      : undefined;
  const fromSecret = (env: string, key: string) =>
    secretData[key] !== undefined
      ? [{ name: env, valueFrom: { secretKeyRef: { name: names.secret, key } } }]
      : [];

  const r = dc.containerResourceRequirements as
    | { cpu?: number; memoryInGB?: number; cpuLimit?: number; memoryInGBLimit?: number; gpu?: number }
    | undefined;
  const memory = r?.memoryInGB ?? KUBERNETES_RESOURCE_DEFAULTS.memoryInGB;
  const limits: Record<string, string> = { memory: quantityMemory(r?.memoryInGBLimit ?? memory) };
  if (r?.cpuLimit) limits.cpu = quantityCpu(r.cpuLimit);
  if (r?.gpu) limits['nvidia.com/gpu'] = String(r.gpu);
  const resources = {
    requests: {
      cpu: quantityCpu(r?.cpu ?? KUBERNETES_RESOURCE_DEFAULTS.cpu),
      memory: quantityMemory(memory),
    },
    limits,
  };

  const modelIds = input.models.map((m) => `${m.name}:${m.version}`).join(',');
  const selector = ownerLabels(input.name);
  const deployment: IDeployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { ...meta(names.deployment), annotations: { 'berth.dev/models': modelIds } },
    spec: {
      // With autoscaling on, the HorizontalPodAutoscaler owns the replica count.
      ...(autoscale ? {} : { replicas: dc.numReplicas }),
      selector: { matchLabels: selector },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      progressDeadlineSeconds: 600,
      template: {
        metadata: {
          labels,
          annotations: {
            'berth.dev/models': modelIds,
            // Changing keys or config changes this hash, so the rolling update replaces the pods.
            'berth.dev/config-hash': hash({ configData, secretData }),
          },
        },
        spec: {
          terminationGracePeriodSeconds: Math.ceil(dc.scoringTimeoutMs / 1000) + 10,
          initContainers: [
            {
              name: 'fetch-models',
              image: input.image,
              command: ['node', `${CONFIG_MOUNT}/fetch-models.mjs`],
              env: [
                { name: 'BERTH_PLAN', value: `${CONFIG_MOUNT}/models.json` },
                { name: 'BERTH_SERVE_TEMPLATE', value: `${CONFIG_MOUNT}/serve.json` },
                { name: 'BERTH_SERVE_FILE', value: `${RUN_MOUNT}/serve.json` },
                ...(input.modelSource.kind === 'api'
                  ? [{ name: 'BERTH_WORKSPACE_URL', value: input.modelSource.workspaceUrl }]
                  : []),
                ...fromSecret('BERTH_TOKEN', 'workspaceToken'),
                ...fromSecret('BERTH_PRIMARY_KEY', 'primaryKey'),
                ...fromSecret('BERTH_SECONDARY_KEY', 'secondaryKey'),
              ],
              resources: {
                requests: { cpu: '100m', memory: '128Mi' },
                limits: { memory: quantityMemory(Math.max(memory, 0.25)) },
              },
              volumeMounts: [
                { name: 'config', mountPath: CONFIG_MOUNT, readOnly: true },
                { name: 'models', mountPath: MODELS_MOUNT },
                { name: 'run', mountPath: RUN_MOUNT },
              ],
              securityContext: { allowPrivilegeEscalation: false },
            },
          ],
          containers: [
            {
              name: 'server',
              image: input.image,
              workingDir: IMAGE_APP_DIR,
              command: ['berth', 'serve', '--spec', `${RUN_MOUNT}/serve.json`],
              ports: [{ name: 'http', containerPort: CONTAINER_PORT, protocol: 'TCP' }],
              resources,
              readinessProbe: {
                httpGet: { path: '/health/ready', port: 'http' },
                periodSeconds: 5,
                timeoutSeconds: 3,
                failureThreshold: 3,
              },
              livenessProbe: {
                httpGet: { path: '/health/live', port: 'http' },
                initialDelaySeconds: 10,
                periodSeconds: 10,
                timeoutSeconds: 5,
                failureThreshold: 3,
              },
              volumeMounts: [
                { name: 'config', mountPath: CONFIG_MOUNT, readOnly: true },
                { name: 'models', mountPath: MODELS_MOUNT, readOnly: true },
                { name: 'run', mountPath: RUN_MOUNT, readOnly: true },
              ],
              securityContext: { allowPrivilegeEscalation: false },
            },
          ],
          volumes: [
            { name: 'config', configMap: { name: names.configMap } },
            { name: 'models', emptyDir: {} },
            { name: 'run', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
          ],
        },
      },
    },
  };

  const service: IService = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(names.service),
    spec: {
      type: 'ClusterIP',
      selector,
      ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
    },
  };

  const hpa: IHorizontalPodAutoscaler | undefined = autoscale
    ? {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: meta(names.hpa),
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: names.deployment },
          minReplicas: autoscale.minReplicas,
          maxReplicas: autoscale.maxReplicas,
          metrics: [
            {
              type: 'Resource',
              resource: {
                name: 'cpu',
                target: { type: 'Utilization', averageUtilization: autoscale.targetUtilization },
              },
            },
          ],
          behavior: {
            scaleUp: {
              policies: [{ type: 'Percent', value: 100, periodSeconds: autoscale.refreshPeriodInSeconds }],
            },
            scaleDown: {
              policies: [{ type: 'Percent', value: 100, periodSeconds: autoscale.refreshPeriodInSeconds }],
            },
          },
        },
      }
    : undefined;

  return { configMap, ...(secret ? { secret } : {}), deployment, service, ...(hpa ? { hpa } : {}) };
}
