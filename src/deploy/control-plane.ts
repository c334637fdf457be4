import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import type { Logger } from 'pino';
import { type DeploymentConfig, parseDeploymentConfig } from '../core/config/deployment-config.js';
import { type InferenceConfig, parseInferenceConfig } from '../core/config/inference-config.js';
import { BerthError } from '../core/errors.js';
import { assertValidName } from '../core/model-ref.js';
import { buildNodeEnvironment } from '../registry/environments/node-environment.js';
import type { ModelRegistry } from '../registry/model-registry.js';
import type {
  ServiceDesired,
  ServiceKeys,
  ServiceRecord,
  ServiceStatus,
  ServiceStore,
} from '../store/service-store.js';
import { LOCAL_SERVICE_HOST } from './build-serve-spec.js';
import {
  type KubernetesControllerDeps,
  reconcileKubernetesService,
} from './kubernetes-service-controller.js';
import type { PlanOptions } from './plan-reconcile.js';
import { reconcileService, type ServiceControllerDeps } from './service-controller.js';
import { readLogTail } from './service-log.js';
import type { DeployServiceRequest, KeyName, UpdateServiceRequest } from './service-requests.js';
import { type ServiceView, toServiceView } from './service-view.js';
import { storeSourceBundle } from './source-bundle.js';
import type { Target } from './target.js';
import { findFreePort, isPortFree, portInUse } from './targets/local/port-availability.js';

export interface ControlPlaneOptions {
  workspaceDir: string;
  store: ServiceStore;
  registry: ModelRegistry;
  target: Target;
  log: Logger;
  /** How often every service is reconciled (ms; default 1000). */
  reconcileIntervalMs?: number;
  /** npm executable for node environments (default `npm`). */
  npmCommand?: string;
  plan?: PlanOptions;
  /** The management API's token (given to Kubernetes init containers that download models from it). */
  workspaceToken?: string;
}

/** A fresh service key: 32 URL-safe characters (192 bits). */
export function generateKey(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * The control plane: keeps the desired state of every service in the store and reconciles the
 * replicas toward it, on every change and every `reconcileIntervalMs` (restarting dead replica
 * processes, adopting live ones after its own restart). One reconcile per service runs at a time.
 * Its methods are what the management API exposes.
 */
export class ControlPlane {
  private readonly deps: ServiceControllerDeps;
  private readonly kubeDeps: KubernetesControllerDeps;
  private readonly tails = new Map<string, Promise<void>>();
  private readonly queued = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: ControlPlaneOptions) {
    this.deps = {
      store: options.store,
      target: options.target,
      materialize: (id) => options.registry.materialize(id),
      buildEnvironment: (dependencies) =>
        buildNodeEnvironment({
          workspaceDir: options.workspaceDir,
          dependencies,
          npmCommand: options.npmCommand,
        }),
      plan: options.plan,
    };
    this.kubeDeps = {
      store: options.store,
      targetFor: (compute) => kubernetesTarget(options.workspaceDir, compute),
      modelVersion: (id) => options.registry.get(id),
      workspaceToken: () => options.workspaceToken,
      logFile: (name) => options.target.paths(name).logFile,
    };
  }

  /** Guards model deletion, adopts or restarts every service once, then reconciles periodically. */
  async start(): Promise<void> {
    this.options.registry.setUsageGuard((name, version) =>
      this.options.store.servicesUsingModel(name, version),
    );
    await this.reconcileAll();
    this.scheduleTick();
  }

  /** Every `reconcileIntervalMs`, or every 100 ms while a service is changing (so waiting clients see it soon). */
  private scheduleTick(): void {
    if (this.stopped) return;
    const busy = this.options.store
      .list()
      .some((r) => r.status.state === 'Transitioning' || r.deleting || r.status.reload);
    const every = busy ? 100 : (this.options.reconcileIntervalMs ?? 1000);
    this.timer = setTimeout(() => {
      void this.reconcileAll().finally(() => this.scheduleTick());
    }, every);
    this.timer.unref();
  }

  /** Stops reconciling (running replicas are left alone) and waits for the steps in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled([...this.tails.values()]);
  }

  /**
   * Stops the replicas of every service, leaving their desired state (used when the workspace folder
   * was removed under a running control plane: nothing would manage them any more).
   */
  async stopAllReplicas(): Promise<void> {
    await Promise.allSettled(
      this.options.store
        .list()
        .filter((r) => r.computeType === 'local')
        .map((r) => this.options.target.stop(r.name, r.status.process, 5_000)),
    );
  }

  /** Reconciles every service; those with a step in progress are left to it (a long npm install blocks no one). */
  async reconcileAll(): Promise<void> {
    const names = this.options.store
      .list()
      .map((r) => r.name)
      .filter((n) => !this.tails.has(n));
    await Promise.allSettled(names.map((n) => this.reconcile(n)));
  }

  /** Queues one reconcile step of `name` after the one in progress; resolves when it ran. */
  reconcile(name: string): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const tail = this.tails.get(name);
    if (tail && this.queued.has(name)) return tail;
    this.queued.add(name);
    const next = (tail ?? Promise.resolve())
      .then(async () => {
        this.queued.delete(name);
        if (this.options.store.find(name)?.computeType === 'kubernetes') {
          await reconcileKubernetesService(name, this.kubeDeps);
        } else {
          await reconcileService(name, this.deps);
        }
      })
      .catch((err: unknown) => {
        this.options.log.error({ err, service: name }, 'reconcile failed');
      });
    this.tails.set(name, next);
    void next.finally(() => {
      if (this.tails.get(name) === next) this.tails.delete(name);
    });
    return next;
  }

  list(): ServiceView[] {
    return this.options.store.list().map((r) => this.view(r));
  }

  /** @throws SERVICE_NOT_FOUND */
  get(name: string): ServiceView {
    return this.view(this.options.store.get(name));
  }

  /**
   * Validates and records a new service, then starts reconciling it; returns at once (Transitioning).
   * Kubernetes services run on `request.compute` (default: the only attached compute).
   * @throws INVALID_NAME, SERVICE_ALREADY_EXISTS, INVALID_CONFIG, NOT_SUPPORTED, ENTRY_SCRIPT_NOT_FOUND,
   *   PATH_NOT_FOUND, INVALID_ARGUMENT, INVALID_MODEL_REF, MODEL_NOT_FOUND, PORT_IN_USE, COMPUTE_NOT_FOUND
   */
  async deploy(request: DeployServiceRequest): Promise<ServiceView> {
    if (typeof request?.name !== 'string') throw argument('"name" (the service name) is required.');
    assertValidName(request.name, 'service name');
    this.assertNameFree(request.name);
    const deploymentConfig = this.parseDeploymentConfig(request.deploymentConfig ?? {});
    const inferenceConfig = this.parseInferenceConfig(
      request.inferenceConfig ?? { runtime: 'onnx' },
      request.source,
    );
    const models = this.resolveModels(request.models);
    const kube = deploymentConfig.computeType === 'kubernetes';
    const compute = kube ? await this.kubernetesCompute(request.name, request.compute) : undefined;
    const port = kube ? 80 : await this.choosePort(deploymentConfig, request.name);
    this.assertNameFree(request.name);
    const desired: ServiceDesired = {
      models,
      inferenceConfig,
      deploymentConfig,
      keys: {
        primaryKey: deploymentConfig.keys?.primaryKey ?? generateKey(),
        secondaryKey: deploymentConfig.keys?.secondaryKey ?? generateKey(),
      },
      port,
      ...(compute ? { compute: compute.name, namespace: compute.namespace } : {}),
    };
    const status: ServiceStatus = {
      state: 'Transitioning',
      conditions: [],
      observedGeneration: 0,
      appliedGeneration: 0,
      replicas: { desired: deploymentConfig.numReplicas, ready: 0 },
      restarts: 0,
    };
    const record = this.options.store.create({
      name: request.name,
      computeType: deploymentConfig.computeType,
      desired,
      status,
    });
    this.options.log.info({ service: record.name, models }, 'service deployed');
    void this.reconcile(record.name);
    return this.view(record);
  }

  /**
   * Records a new desired state (each part given replaces the current one) and starts the rolling
   * update; returns at once. Keys and port stay unless the new deployment config sets them.
   * @throws SERVICE_NOT_FOUND, INVALID_ARGUMENT (nothing to update), and the codes of `deploy`.
   */
  async update(name: string, request: UpdateServiceRequest): Promise<ServiceView> {
    const current = this.options.store.get(name);
    this.assertNotDeleting(current);
    if (
      !request ||
      (request.models === undefined &&
        request.inferenceConfig === undefined &&
        request.deploymentConfig === undefined)
    ) {
      throw argument('Nothing to update: give models, an inference config or a deployment config.');
    }
    const d = current.desired;
    const deploymentConfig =
      request.deploymentConfig === undefined
        ? d.deploymentConfig
        : this.parseDeploymentConfig(request.deploymentConfig);
    if (deploymentConfig.computeType !== current.computeType) {
      throw new BerthError(
        'NOT_SUPPORTED',
        `Service "${name}" runs on "${current.computeType}"; moving it to "${deploymentConfig.computeType}" is not supported.`,
        {
          hint: `Delete it and deploy again: berth service delete ${name}`,
        },
      );
    }
    const inferenceConfig =
      request.inferenceConfig === undefined
        ? d.inferenceConfig
        : this.parseInferenceConfig(request.inferenceConfig, request.source);
    const models = request.models === undefined ? d.models : this.resolveModels(request.models);
    const port =
      deploymentConfig.port && current.computeType === 'local'
        ? await this.choosePort(deploymentConfig, name, d.port)
        : d.port;
    const desired: ServiceDesired = {
      models,
      inferenceConfig,
      deploymentConfig,
      keys: {
        primaryKey: deploymentConfig.keys?.primaryKey ?? d.keys.primaryKey,
        secondaryKey: deploymentConfig.keys?.secondaryKey ?? d.keys.secondaryKey,
      },
      port,
      ...(d.compute ? { compute: d.compute, namespace: d.namespace } : {}),
    };
    const record = this.options.store.updateDesired(name, desired);
    this.options.log.info({ service: name, generation: record.generation, models }, 'service updated');
    void this.reconcile(name);
    return this.view(record);
  }

  /**
   * Marks the service Deleting and waits until its replicas drained and stopped and its record is gone.
   * @throws SERVICE_NOT_FOUND
   */
  async delete(name: string): Promise<void> {
    this.options.store.markDeleting(name);
    this.options.log.info({ service: name }, 'service deleting');
    await this.reconcile(name);
    if (this.options.store.find(name)) await this.reconcile(name);
    if (this.options.store.find(name)) {
      throw new BerthError(
        'INTERNAL',
        `Service "${name}" could not be removed yet; it stays Deleting and is retried.`,
        {
          hint: 'See <workspace>/control-plane.log; berth service show NAME tells when it is gone.',
        },
      );
    }
  }

  /** @throws SERVICE_NOT_FOUND */
  keys(name: string): ServiceKeys {
    return { ...this.options.store.get(name).desired.keys };
  }

  /**
   * Replaces one key. With auth enabled the replicas get it through a rolling update (the returned
   * generation tells when it applies); without, nothing restarts.
   * @throws SERVICE_NOT_FOUND, INVALID_ARGUMENT
   */
  regenerateKey(name: string, which: KeyName): { keys: ServiceKeys; service: ServiceView } {
    if (which !== 'primary' && which !== 'secondary') {
      throw argument(`Key "${String(which)}" is neither "primary" nor "secondary".`);
    }
    const current = this.options.store.get(name);
    this.assertNotDeleting(current);
    const keys = { ...current.desired.keys, [`${which}Key`]: generateKey() } as ServiceKeys;
    const desired = { ...current.desired, keys };
    const record = current.desired.deploymentConfig.authEnabled
      ? this.options.store.updateDesired(name, desired)
      : this.options.store.restoreDesired(name, desired);
    void this.reconcile(name);
    return { keys: { ...keys }, service: this.view(record) };
  }

  /**
   * The service's log, last `tail` lines: local = replicas and control-plane events; Kubernetes =
   * the pods' logs (init and server containers), after the control plane's events.
   * @throws SERVICE_NOT_FOUND, and for Kubernetes the cluster errors (CLUSTER_UNREACHABLE...)
   */
  async logs(name: string, tail?: number): Promise<string> {
    const record = this.options.store.get(name);
    const events = readLogTail(this.logFile(name), tail);
    if (record.computeType !== 'kubernetes') return events;
    const target = await kubernetesTarget(this.options.workspaceDir, record.desired.compute);
    const pods = await target.logs(name, { tail });
    const text = [events, pods].filter((t) => t.trim() !== '').join(events.endsWith('\n') ? '' : '\n');
    if (tail === undefined) return text;
    const lines = text.split('\n').filter((l) => l !== '');
    return lines.length ? `${lines.slice(-tail).join('\n')}\n` : '';
  }

  /** The file `logs` reads (for following). */
  logFile(name: string): string {
    return this.options.target.paths(name).logFile;
  }

  private view(record: ServiceRecord): ServiceView {
    return toServiceView(record, this.options.target.paths(record.name).dataDir);
  }

  private assertNameFree(name: string): void {
    if (this.options.store.find(name)) {
      throw new BerthError('SERVICE_ALREADY_EXISTS', `A service named "${name}" already exists.`, {
        hint: `Change it with: berth service update ${name} -m MODEL [--ic FILE] [--dc FILE]; or delete it first.`,
      });
    }
  }

  private assertNotDeleting(record: ServiceRecord): void {
    if (record.deleting) {
      throw new BerthError('SERVICE_NOT_FOUND', `Service "${record.name}" is being deleted.`, {
        hint: 'Wait for the delete to finish, then deploy it again.',
      });
    }
  }

  private parseDeploymentConfig(raw: unknown): DeploymentConfig {
    return parseDeploymentConfig(raw, 'deployment config');
  }

  /** The attached compute a Kubernetes service goes to. @throws COMPUTE_NOT_FOUND, INVALID_NAME */
  private async kubernetesCompute(name: string, compute: string | undefined) {
    const { assertKubernetesName } = await import('./targets/kubernetes/kubernetes-names.js');
    assertKubernetesName(name);
    if (compute !== undefined && typeof compute !== 'string') throw argument('"compute" must be a string.');
    return (await kubernetesTarget(this.options.workspaceDir, compute)).compute;
  }

  private parseInferenceConfig(raw: unknown, source: DeployServiceRequest['source']): InferenceConfig {
    const moved = source ? storeSourceBundle(this.options.workspaceDir, source, raw) : raw;
    const config = parseInferenceConfig(moved, this.options.workspaceDir, 'inference config');
    if (config.sourceDirectory && !isDirectory(config.sourceDirectory)) {
      throw new BerthError('PATH_NOT_FOUND', `Source directory "${config.sourceDirectory}" does not exist.`, {
        hint: 'Fix "sourceDirectory" in inferenceconfig.json; it is relative to the config file.',
      });
    }
    if (config.entryScript && !existsSync(config.entryScript)) {
      throw new BerthError('ENTRY_SCRIPT_NOT_FOUND', `Entry script "${config.entryScript}" does not exist.`, {
        hint: 'Fix "entryScript" in inferenceconfig.json; it is relative to "sourceDirectory" (or to the config file).',
      });
    }
    if (config.condaFile && !existsSync(config.condaFile)) {
      throw new BerthError('PATH_NOT_FOUND', `Conda file "${config.condaFile}" does not exist.`, {
        hint: 'Fix "condaFile" in inferenceconfig.json; it is relative to "sourceDirectory" (or to the config file).',
      });
    }
    return config;
  }

  /** Resolves references to concrete `name:version` ids (so restarts serve exactly the same files). */
  private resolveModels(refs: unknown): string[] {
    if (!Array.isArray(refs) || refs.length === 0 || refs.some((r) => typeof r !== 'string')) {
      throw argument('Give at least one model reference (NAME, NAME:VERSION or NAME@ALIAS), e.g. -m iris:1.');
    }
    const ids = (refs as string[]).map((ref) => this.options.registry.get(ref).id);
    return [...new Set(ids)];
  }

  /** The config's port after checking it is free (not another service's, not bound), else a free one. */
  private async choosePort(config: DeploymentConfig, name: string, current?: number): Promise<number> {
    const others = new Map(
      this.options.store
        .list()
        .filter((r) => r.name !== name && r.computeType === 'local')
        .map((r) => [r.desired.port, r.name] as const),
    );
    if (config.port) {
      const owner = others.get(config.port);
      if (owner) throw portInUse(config.port, owner);
      if (config.port !== current && !(await isPortFree(config.port, LOCAL_SERVICE_HOST)))
        throw portInUse(config.port);
      return config.port;
    }
    for (;;) {
      const port = await findFreePort(LOCAL_SERVICE_HOST);
      if (!others.has(port)) return port;
    }
  }
}

/** The target of an attached compute (loaded lazily: local-only workspaces never load the Kubernetes client). */
async function kubernetesTarget(workspaceDir: string, compute: string | undefined) {
  const { FileComputeStore } = await import('./targets/kubernetes/compute-store.js');
  const { KubernetesTarget } = await import('./targets/kubernetes/kubernetes-target.js');
  return new KubernetesTarget(new FileComputeStore(workspaceDir).resolve(compute));
}

function argument(message: string): BerthError {
  return new BerthError('INVALID_ARGUMENT', message, {
    hint: 'See berth model deploy --help and docs/deploy.md.',
  });
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
