import { existsSync } from 'node:fs';
import { BerthError, toBerthError } from '../core/errors.js';
import type { NodeEnvironment } from '../registry/environments/node-environment.js';
import type { ServedModel, ServeSpec } from '../serving/serve-spec.js';
import type {
  ConditionType,
  ServiceDesired,
  ServiceRecord,
  ServiceStatus,
  ServiceStore,
} from '../store/service-store.js';
import { buildServeSpec } from './build-serve-spec.js';
import { type PlanOptions, planReconcile, restartBackoffMs } from './plan-reconcile.js';
import { aggregateState, setCondition, TERMINAL_REASONS } from './service-conditions.js';
import { appendServiceEvent } from './service-log.js';
import type { Target } from './target.js';

/** What `reconcileService` works with; the control plane builds it once. */
export interface ServiceControllerDeps {
  store: ServiceStore;
  target: Target;
  /** `ModelRegistry.materialize`: the folder holding exactly a model version's files. */
  materialize(modelId: string): Promise<string>;
  /** Builds (or reuses) the node environment of a dependency set. */
  buildEnvironment(dependencies: Record<string, string>): Promise<NodeEnvironment>;
  now?: () => Date;
  plan?: PlanOptions;
}

/** Splits a concrete model id `name:version`. */
export function splitModelId(id: string): { name: string; version: number } {
  const at = id.lastIndexOf(':');
  return { name: id.slice(0, at), version: Number(id.slice(at + 1)) };
}

/**
 * Moves one service one step toward its desired state: read the record, observe the replicas,
 * plan (pure), act (start / reload / restart / roll back / remove), record the status.
 * Idempotent: calling it again, or after a crash, repeats nothing harmful.
 * @returns the updated record, or undefined once the service is removed.
 */
export async function reconcileService(
  name: string,
  deps: ServiceControllerDeps,
): Promise<ServiceRecord | undefined> {
  const record = deps.store.find(name);
  if (!record) return undefined;
  const now = deps.now?.() ?? new Date();
  const observed = await deps.target.observe(name, record.status.process, record.status.reload?.sentAt);
  const { action, status } = planReconcile(record, observed, now, deps.plan);
  if (record.status.process && !observed.running) {
    // Clean what is left of a dead replica's process group (workers orphaned by a killed supervisor).
    await deps.target.stop(name, record.status.process, 0);
  }
  const run = new Run(record, deps, now);
  switch (action.kind) {
    case 'remove':
      appendServiceEvent(deps.target.paths(name).logFile, 'info', `Deleting service "${name}".`);
      // In-flight requests may run up to scoringTimeoutMs: let them finish before killing the group.
      await deps.target.stop(
        name,
        record.status.process,
        record.desired.deploymentConfig.scoringTimeoutMs + 5_000,
      );
      await deps.target.remove(name);
      deps.store.remove(name);
      return undefined;
    case 'none':
      return run.save(status, JSON.stringify(status) !== JSON.stringify(record.status));
    case 'start':
      return run.start(status);
    case 'restart':
      await deps.target.stop(name, record.status.process);
      status.process = undefined;
      return run.start(status);
    case 'reload':
      return run.reload(status, observed.serveState?.generation ?? 0);
    case 'rollback':
      return run.rollback(status, action.reason);
  }
}

/** Where a failure shows among the conditions, and whether it stops retries. */
function conditionFor(err: BerthError): { type: ConditionType; reason: string } {
  switch (err.code) {
    case 'MODEL_NOT_FOUND':
    case 'ARTIFACT_CORRUPTED':
    case 'STORE_ERROR':
      return { type: 'ModelsReady', reason: 'ModelUnavailable' };
    case 'ENVIRONMENT_BUILD_FAILED':
      return { type: 'EnvironmentReady', reason: 'EnvironmentBuildFailed' };
    case 'ENTRY_SCRIPT_NOT_FOUND':
      return { type: 'ProcessRunning', reason: 'EntryScriptNotFound' };
    case 'PORT_IN_USE':
      return { type: 'ProcessRunning', reason: 'PortInUse' };
    default:
      return { type: 'ProcessRunning', reason: 'StartFailed' };
  }
}

/** One reconcile step's actions for one service. */
class Run {
  private readonly name: string;
  private readonly logFile: string;

  constructor(
    private readonly record: ServiceRecord,
    private readonly deps: ServiceControllerDeps,
    private readonly now: Date,
  ) {
    this.name = record.name;
    this.logFile = deps.target.paths(record.name).logFile;
  }

  save(status: ServiceStatus, changed = true): ServiceRecord {
    if (!changed) return this.record;
    status.state = aggregateState(this.record, status);
    return this.deps.store.updateStatus(this.name, status);
  }

  private set(
    status: ServiceStatus,
    type: ConditionType,
    value: 'True' | 'False' | 'Unknown',
    reason: string,
    message: string,
  ) {
    status.conditions = setCondition(status.conditions, type, value, reason, message, new Date());
  }

  /** Materializes the models, builds the environment, and maps the desired state onto a ServeSpec. */
  private async prepare(desired: ServiceDesired, status: ServiceStatus): Promise<ServeSpec> {
    const models: ServedModel[] = [];
    for (const id of desired.models) {
      const { name, version } = splitModelId(id);
      models.push({ name, version, path: await this.deps.materialize(id) });
    }
    this.set(status, 'ModelsReady', 'True', 'Materialized', `Models ready: ${desired.models.join(', ')}.`);
    const ic = desired.inferenceConfig;
    if (ic.entryScript && !existsSync(ic.entryScript)) {
      throw new BerthError('ENTRY_SCRIPT_NOT_FOUND', `Entry script "${ic.entryScript}" does not exist.`, {
        hint: 'Restore the file, or update the service with an inference config naming an existing entry script.',
      });
    }
    let environmentDir: string | undefined;
    const dependencies = ic.dependencies ?? {};
    if (ic.runtime === 'node' && Object.keys(dependencies).length > 0) {
      this.set(
        status,
        'EnvironmentReady',
        'Unknown',
        'Installing',
        `Installing dependencies with npm: ${Object.keys(dependencies).join(', ')}.`,
      );
      this.save(status);
      const started = Date.now();
      const env = await this.deps.buildEnvironment(dependencies);
      environmentDir = env.dir;
      const how = env.reused ? 'reused' : `built in ${((Date.now() - started) / 1000).toFixed(1)} s`;
      this.set(
        status,
        'EnvironmentReady',
        'True',
        env.reused ? 'Reused' : 'Built',
        `Environment ${env.hash} ${how}.`,
      );
    } else {
      this.set(status, 'EnvironmentReady', 'True', 'NotNeeded', 'No dependencies to install.');
    }
    return buildServeSpec({
      name: this.name,
      desired,
      models,
      paths: this.deps.target.paths(this.name),
      environmentDir,
    });
  }

  async start(status: ServiceStatus): Promise<ServiceRecord> {
    const g = this.record.generation;
    if (status.observedGeneration < g) {
      // A new generation gets a fresh attempt: forget the failures of the previous one.
      status.conditions = status.conditions.filter(
        (c) => !(c.status === 'False' && TERMINAL_REASONS.has(c.reason)),
      );
    }
    this.set(
      status,
      'ReplicasReady',
      'False',
      status.appliedGeneration > 0 ? 'Restarting' : 'Starting',
      'Preparing the replicas.',
    );
    try {
      const spec = await this.prepare(this.record.desired, status);
      const process = await this.deps.target.start(this.name, spec, g);
      status.process = process;
      status.nextRestartAt = undefined;
      status.replicas = { desired: spec.replicas, ready: 0 };
      this.set(
        status,
        'ProcessRunning',
        'True',
        'Started',
        `Replica process ${process.pid} started on port ${process.port}.`,
      );
      this.set(
        status,
        'ReplicasReady',
        'False',
        status.appliedGeneration > 0 ? 'Restarting' : 'Starting',
        `Waiting for replicas: 0/${spec.replicas} ready.`,
      );
      appendServiceEvent(
        this.logFile,
        'info',
        `Started replica process ${process.pid} (generation ${g}) on port ${process.port}.`,
        {
          service: this.name,
        },
      );
    } catch (err) {
      const e = toBerthError(err);
      if (e.code === 'PORT_IN_USE' && status.appliedGeneration > 0) {
        // A serving service whose port was grabbed while it restarted: keep trying, do not give up.
        status.nextRestartAt = new Date(
          this.now.getTime() + restartBackoffMs(status.restarts + 1),
        ).toISOString();
        status.error = e.message;
        this.set(status, 'ProcessRunning', 'False', 'PortBusy', `${e.message} Retrying.`);
      } else {
        const { type, reason } = conditionFor(e);
        status.error = e.message;
        status.observedGeneration = g;
        this.set(status, type, 'False', reason, e.message);
      }
      appendServiceEvent(this.logFile, 'error', `Could not start service "${this.name}": ${e.message}`, {
        service: this.name,
        code: e.code,
        ...(typeof e.details?.output === 'string' ? { output: e.details.output } : {}),
      });
      if (typeof e.details?.output === 'string') appendRawOutput(this.logFile, e.details.output);
    }
    return this.save(status);
  }

  async reload(status: ServiceStatus, baseServeGeneration: number): Promise<ServiceRecord> {
    const g = this.record.generation;
    const process = status.process;
    if (!process) return this.start(status);
    this.set(status, 'UpdateApplied', 'Unknown', 'InProgress', `Rolling update to generation ${g}.`);
    try {
      const spec = await this.prepare(this.record.desired, status);
      await this.deps.target.reload(this.name, spec, process);
      status.reload = {
        generation: g,
        sentAt: new Date().toISOString(),
        baseServeGeneration,
        desired: this.record.desired,
      };
      appendServiceEvent(
        this.logFile,
        'info',
        `Rolling update to generation ${g} (models ${this.record.desired.models.join(', ')}).`,
        {
          service: this.name,
        },
      );
    } catch (err) {
      const e = toBerthError(err);
      if (typeof e.details?.output === 'string') appendRawOutput(this.logFile, e.details.output);
      status.reload = {
        generation: g,
        sentAt: new Date().toISOString(),
        baseServeGeneration,
        desired: this.record.desired,
      };
      return this.rollback(status, e.message);
    }
    return this.save(status);
  }

  async rollback(status: ServiceStatus, reason: string): Promise<ServiceRecord> {
    const g = this.record.generation;
    const target = status.reload?.generation ?? g;
    const why = reason.replace(/^Reload to generation \d+ failed; generation \d+ keeps serving\.\s*/, '');
    const message = `Update to generation ${target} failed; the service keeps serving generation ${status.appliedGeneration}: ${why}`;
    status.reload = undefined;
    status.error = message;
    status.lastUpdate = {
      generation: target,
      outcome: 'Failed',
      error: message,
      at: new Date().toISOString(),
    };
    this.set(status, 'UpdateApplied', 'False', 'UpdateFailed', message);
    appendServiceEvent(this.logFile, 'error', message, { service: this.name });
    status.observedGeneration = Math.max(status.observedGeneration, target);
    if (status.lastApplied) {
      try {
        // The running replicas keep the old spec in memory; the file must say the same for the next start.
        this.deps.target.writeSpec(this.name, await this.prepare(status.lastApplied, status));
      } catch (err) {
        appendServiceEvent(
          this.logFile,
          'error',
          `Could not restore the previous spec: ${toBerthError(err).message}`,
          {
            service: this.name,
          },
        );
      }
      if (g === target) {
        this.deps.store.restoreDesired(this.name, status.lastApplied);
        status.appliedGeneration = g;
        if (status.process) status.process = { ...status.process, generation: g };
      }
    }
    return this.save(status);
  }
}

/** Copies a failed tool's output (npm) into the service log as plain lines. */
function appendRawOutput(file: string, output: string): void {
  for (const line of output.split('\n').filter((l) => l.trim() !== '')) {
    appendServiceEvent(file, 'error', line, { source: 'npm' });
  }
}
