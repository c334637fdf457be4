import type { ComputeType, DeploymentConfig } from '../core/config/deployment-config.js';
import { type InferenceConfig, parseInferenceConfig } from '../core/config/inference-config.js';
import { BerthError } from '../core/errors.js';
import type { KeyName } from '../deploy/service-requests.js';
import type { ServiceView } from '../deploy/service-view.js';
import type { ServiceCondition, ServiceState } from '../store/service-store.js';
import { type HttpResponse, httpRequestOnce } from './remote/http-request.js';
import type { Workspace } from './workspace.js';

/** A model to deploy: a `Model` (or any ModelVersion), or a reference NAME | NAME:VERSION | NAME@ALIAS. */
export type ModelLike = string | { id: string };

/** The two keys of a service: `keys[0]` / `keys.primaryKey`, `keys[1]` / `keys.secondaryKey`. */
export type ServiceKeys = [string, string] & { primaryKey: string; secondaryKey: string };

export interface WaitOptions {
  /** Print progress (each new condition, then the state) while waiting. */
  showOutput?: boolean;
  /** Where progress lines go (default: stdout when showOutput). */
  output?: (line: string) => void;
  /** Give up after this long (ms; default 15 min) with TIMEOUT. */
  timeoutMs?: number;
  /** Poll interval (ms; default 200). */
  pollMs?: number;
}

export interface UpdateOptions {
  models?: ModelLike[];
  inferenceConfig?: InferenceConfig | Record<string, unknown>;
  deploymentConfig?: Partial<DeploymentConfig>;
}

function modelRef(model: ModelLike): string {
  return typeof model === 'string' ? model : model.id;
}

/** Inference configs are resolved against the current folder here, so every client sends absolute paths. */
function resolveInferenceConfig(
  config: InferenceConfig | Record<string, unknown> | undefined,
): InferenceConfig | undefined {
  return config === undefined ? undefined : parseInferenceConfig(config, process.cwd(), 'inference config');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function makeKeys(primaryKey: string, secondaryKey: string): ServiceKeys {
  return Object.assign([primaryKey, secondaryKey] as [string, string], { primaryKey, secondaryKey });
}

/**
 * A deployed service of a workspace (the seed's `Webservice`). Properties show what was last
 * fetched; `refresh()` and the waiting methods fetch again.
 *
 * @example
 * ```ts
 * const config = LocalWebservice.deployConfiguration({ port: 8890 });
 * const service = await Model.deploy(ws, 'myservice', [model], inferenceConfig, config);
 * await service.waitForDeployment({ showOutput: true });
 * console.log(service.state, service.scoringUri);
 * console.log(await service.run({ data: [[1, 2, 3]] }));
 * await service.update({ models: [newModel] });
 * await service.delete();
 * ```
 */
export class Webservice {
  readonly #workspace: Workspace;
  #view: ServiceView;

  private constructor(workspace: Workspace, view: ServiceView) {
    this.#workspace = workspace;
    this.#view = view;
  }

  /**
   * Deploys `models` as a new service and returns at once (state `Transitioning`); then
   * `waitForDeployment()`. Same as `Model.deploy`. `options.compute`: the attached Kubernetes
   * compute of a `"computeType": "kubernetes"` service (default: the only one attached).
   * @throws SERVICE_ALREADY_EXISTS (use `update`), MODEL_NOT_FOUND, INVALID_CONFIG, NOT_SUPPORTED,
   *   ENTRY_SCRIPT_NOT_FOUND, PORT_IN_USE
   */
  static async deploy(
    workspace: Workspace,
    name: string,
    models: ModelLike[],
    inferenceConfig?: InferenceConfig | Record<string, unknown>,
    deploymentConfig?: Partial<DeploymentConfig>,
    options: { compute?: string } = {},
  ): Promise<Webservice> {
    const view = await workspace.client.deployService({
      name,
      models: (models ?? []).map(modelRef),
      inferenceConfig: resolveInferenceConfig(inferenceConfig),
      deploymentConfig,
      ...(options.compute ? { compute: options.compute } : {}),
    });
    return new Webservice(workspace, view);
  }

  /** The service `name` (the seed's `Webservice(workspace, name)`). @throws SERVICE_NOT_FOUND */
  static async get(workspace: Workspace, name: string): Promise<Webservice> {
    return new Webservice(workspace, await workspace.client.getService(name));
  }

  /** Every service of the workspace. */
  static async list(workspace: Workspace): Promise<Webservice[]> {
    return (await workspace.client.listServices()).map((v) => new Webservice(workspace, v));
  }

  get name(): string {
    return this.#view.name;
  }
  /** `Transitioning`, `Healthy`, `Unhealthy`, `Failed` or `Deleting`. */
  get state(): ServiceState {
    return this.#view.state;
  }
  get scoringUri(): string {
    return this.#view.scoringUri;
  }
  get swaggerUri(): string {
    return this.#view.swaggerUri;
  }
  /** `name:version` of each served model. */
  get models(): string[] {
    return this.#view.models;
  }
  get computeType(): ComputeType {
    return this.#view.computeType;
  }
  get replicas(): { desired: number; ready: number } {
    return this.#view.replicas;
  }
  get authEnabled(): boolean {
    return this.#view.authEnabled;
  }
  /** The latest failure (deploy, update, crash), or null. */
  get error(): string | null {
    return this.#view.error;
  }
  get conditions(): ServiceCondition[] {
    return this.#view.conditions;
  }
  get generation(): number {
    return this.#view.generation;
  }
  get createdAt(): string {
    return this.#view.createdAt;
  }
  get updatedAt(): string {
    return this.#view.updatedAt;
  }

  /** Fetches the current state. @throws SERVICE_NOT_FOUND once deleted */
  async refresh(): Promise<this> {
    this.#view = await this.#workspace.client.getService(this.name);
    return this;
  }

  /**
   * Waits until the service is `Healthy`, printing progress with `showOutput`.
   * @throws DEPLOYMENT_FAILED when it ends `Failed` (the error says why; `getLogs()` has the details), TIMEOUT
   */
  async waitForDeployment(options: WaitOptions = {}): Promise<this> {
    await this.waitForGeneration(this.generation, options);
    if (this.state !== 'Healthy') {
      throw new BerthError(
        'DEPLOYMENT_FAILED',
        `Service "${this.name}" is ${this.state}: ${this.error ?? 'no replica became ready'}`,
        {
          hint: `See why with: berth service logs ${this.name}`,
          details: { state: this.state },
        },
      );
    }
    return this;
  }

  /** The service's log (replicas and control plane), last `tail` lines. */
  getLogs(options: { tail?: number } = {}): Promise<string> {
    return this.#workspace.client.getServiceLogs(this.name, options);
  }

  /** The primary and secondary keys (`keys[0]`, `keys.primaryKey`, ...). */
  async getKeys(): Promise<ServiceKeys> {
    const k = await this.#workspace.client.getServiceKeys(this.name);
    return makeKeys(k.primaryKey, k.secondaryKey);
  }

  /**
   * Replaces one key and waits until the replicas accept it (a rolling update when auth is enabled).
   * @returns the new keys.
   */
  async regenerateKey(which: KeyName = 'primary', options: WaitOptions = {}): Promise<ServiceKeys> {
    const { keys, service } = await this.#workspace.client.regenerateServiceKey(this.name, which);
    this.#view = service;
    await this.waitForGeneration(service.generation, options);
    return makeKeys(keys.primaryKey, keys.secondaryKey);
  }

  /**
   * Rolling update to new models and/or configs (each part given replaces the current one): new
   * replicas start, take traffic once ready, then the old ones drain. Waits for the outcome.
   * @throws DEPLOYMENT_FAILED when the new replicas failed: the service keeps serving the previous
   *   version (still `Healthy`), `error` and the logs say why.
   */
  async update(change: UpdateOptions, options: WaitOptions = {}): Promise<this> {
    const view = await this.#workspace.client.updateService(this.name, {
      models: change.models?.map(modelRef),
      inferenceConfig: resolveInferenceConfig(change.inferenceConfig),
      deploymentConfig: change.deploymentConfig,
    });
    this.#view = view;
    await this.waitForGeneration(view.generation, options);
    const outcome = this.#view.lastUpdate;
    if (outcome && outcome.generation === view.generation && outcome.outcome === 'Failed') {
      throw new BerthError('DEPLOYMENT_FAILED', outcome.error ?? `The update of "${this.name}" failed.`, {
        hint: `The previous version keeps serving. See why with: berth service logs ${this.name}`,
        details: { state: this.state },
      });
    }
    if (this.state === 'Failed') {
      throw new BerthError('DEPLOYMENT_FAILED', `Service "${this.name}" is Failed: ${this.error ?? ''}`, {
        hint: `See why with: berth service logs ${this.name}`,
      });
    }
    return this;
  }

  /** Drains and stops the replicas and removes the service. @throws SERVICE_NOT_FOUND */
  async delete(): Promise<void> {
    await this.#workspace.client.deleteService(this.name);
  }

  /**
   * Scores `input` (POST scoringUri, JSON), with the primary key when auth is enabled.
   * @throws the scoring server's error (BAD_REQUEST, UNAUTHORIZED, SCORING_FAILED, ...) as a BerthError
   */
  async run(input: unknown): Promise<unknown> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.authEnabled) headers.authorization = `Bearer ${(await this.getKeys()).primaryKey}`;
    let res: HttpResponse;
    try {
      res = await httpRequestOnce(new URL(this.scoringUri), {
        method: 'POST',
        headers,
        body: typeof input === 'string' ? input : JSON.stringify(input),
      });
    } catch (err) {
      throw new BerthError(
        'NOT_READY',
        `Service "${this.name}" does not answer at ${this.scoringUri}: ${(err as Error).message}.`,
        {
          hint: `Check its state: berth service show ${this.name}`,
          cause: err,
        },
      );
    }
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // a runtime may answer plain text
    }
    if (res.status < 200 || res.status >= 300) throw BerthError.fromBody(body, res.status);
    return body;
  }

  toJSON(): ServiceView {
    return this.#view;
  }

  /** Polls until `generation` has an outcome and the service is no longer Transitioning. */
  private async waitForGeneration(generation: number, options: WaitOptions): Promise<void> {
    const print =
      options.output ??
      (options.showOutput ? (line: string) => process.stdout.write(`${line}\n`) : undefined);
    const deadline = Date.now() + (options.timeoutMs ?? 15 * 60_000);
    // Only what changes from now on is news.
    const seen = new Set(this.#view.conditions.map((c) => `${c.type}|${c.status}|${c.message}`));
    let lastState = this.#view.state;
    for (;;) {
      const view = this.#view;
      if (print) {
        for (const c of view.conditions) {
          const key = `${c.type}|${c.status}|${c.message}`;
          if (seen.has(key)) continue;
          seen.add(key);
          print(`  ${c.type}: ${c.message}`);
        }
        if (view.state !== lastState) print(`${view.state}`);
        lastState = view.state;
      }
      if (
        view.observedGeneration >= generation &&
        view.state !== 'Transitioning' &&
        view.state !== 'Deleting'
      )
        return;
      if (Date.now() > deadline) {
        throw new BerthError(
          'TIMEOUT',
          `Service "${this.name}" is still ${view.state} after ${Math.round((options.timeoutMs ?? 900_000) / 1000)} s.`,
          {
            hint: `It keeps going in the background; check it with: berth service show ${this.name}`,
          },
        );
      }
      await sleep(options.pollMs ?? 200);
      await this.refresh();
    }
  }
}
