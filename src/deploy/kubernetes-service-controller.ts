import { toBerthError } from '../core/errors.js';
import type { ModelVersion } from '../registry/model-version.js';
import type { ServiceCondition, ServiceRecord, ServiceStatus, ServiceStore } from '../store/service-store.js';
import { setCondition } from './service-conditions.js';
import { appendServiceEvent } from './service-log.js';
import type { KubernetesTarget } from './targets/kubernetes/kubernetes-target.js';

/** What `reconcileKubernetesService` works with; the control plane builds it once. */
export interface KubernetesControllerDeps {
  store: ServiceStore;
  /** The target of an attached compute (`FileComputeStore.resolve`). @throws COMPUTE_NOT_FOUND */
  targetFor(compute: string | undefined): Promise<KubernetesTarget>;
  /** `ModelRegistry.get` of a concrete `name:version`. */
  modelVersion(id: string): ModelVersion;
  /** The management API's token, handed to the init container when the compute downloads models. */
  workspaceToken?(): string | undefined;
  /** The service's event log (control-plane events; the pods' logs stay in the cluster). */
  logFile(name: string): string;
}

function sameConditions(a: readonly ServiceCondition[], b: readonly ServiceCondition[]): boolean {
  const strip = (c: readonly ServiceCondition[]) => JSON.stringify(c.map(({ at: _at, ...rest }) => rest));
  return strip(a) === strip(b);
}

/**
 * Moves one Kubernetes service one step toward its desired state: a generation not applied yet is
 * server-side applied (failure → Failed, the reason in `error`); an applied one is observed
 * (Deployment and pods → state, replicas, conditions); a deleting one has its objects deleted and
 * its record removed. Idempotent like the local controller.
 * @returns the updated record, or undefined once the service is removed.
 */
export async function reconcileKubernetesService(
  name: string,
  deps: KubernetesControllerDeps,
): Promise<ServiceRecord | undefined> {
  const record = deps.store.find(name);
  if (!record) return undefined;
  const logFile = deps.logFile(name);
  const status: ServiceStatus = structuredClone(record.status);
  const save = (): ServiceRecord =>
    JSON.stringify(status) === JSON.stringify(record.status) ? record : deps.store.updateStatus(name, status);
  const fail = (message: string, reason: string): ServiceRecord => {
    status.state = 'Failed';
    status.error = message;
    status.observedGeneration = Math.max(status.observedGeneration, record.generation);
    status.conditions = setCondition(
      status.conditions,
      'ProcessRunning',
      'False',
      reason,
      message,
      new Date(),
    );
    return save();
  };

  let target: KubernetesTarget;
  try {
    target = await deps.targetFor(record.desired.compute);
  } catch (err) {
    if (record.deleting) {
      // The compute was detached: nothing here can reach its objects any more.
      appendServiceEvent(
        logFile,
        'warn',
        `Deleting service "${name}" without its compute: ${toBerthError(err).message}`,
      );
      deps.store.remove(name);
      return undefined;
    }
    return fail(toBerthError(err).message, 'ComputeNotFound');
  }

  if (record.deleting) {
    status.state = 'Deleting';
    try {
      const deleted = await target.delete(name);
      appendServiceEvent(
        logFile,
        'info',
        `Deleted ${deleted.length ? deleted.join(', ') : 'no object'} of service "${name}".`,
        {
          service: name,
        },
      );
    } catch (err) {
      const e = toBerthError(err);
      if (status.appliedGeneration > 0) {
        status.error = `Delete failed: ${e.message}`;
        save();
        throw e;
      }
      // Never applied: nothing of it can be in the cluster.
    }
    deps.store.remove(name);
    return undefined;
  }

  if (status.observedGeneration < record.generation) {
    const g = record.generation;
    try {
      const applied = await target.apply({
        name,
        desired: record.desired,
        models: record.desired.models.map((id) => deps.modelVersion(id)),
        workspaceToken: deps.workspaceToken?.(),
      });
      status.observedGeneration = g;
      status.appliedGeneration = g;
      status.lastApplied = record.desired;
      status.error = undefined;
      status.state = 'Transitioning';
      status.conditions = setCondition(
        status.conditions,
        'ProcessRunning',
        'True',
        'Applied',
        `Applied ${applied.join(', ')} to namespace ${target.compute.namespace} of compute ${target.compute.name}.`,
        new Date(),
      );
      if (g > 1) status.lastUpdate = { generation: g, outcome: 'Succeeded', at: new Date().toISOString() };
      appendServiceEvent(
        logFile,
        'info',
        `Applied generation ${g} to compute "${target.compute.name}": ${applied.join(', ')}.`,
        {
          service: name,
        },
      );
    } catch (err) {
      const e = toBerthError(err);
      appendServiceEvent(logFile, 'error', `Could not apply service "${name}": ${e.message}`, {
        service: name,
        code: e.code,
      });
      if (g > 1)
        status.lastUpdate = {
          generation: g,
          outcome: 'Failed',
          error: e.message,
          at: new Date().toISOString(),
        };
      return fail(e.message, 'ApplyFailed');
    }
  }
  if (status.appliedGeneration === 0) return save();

  try {
    const o = await target.observe(name);
    status.state = o.state;
    status.replicas = { desired: o.replicas.desired, ready: o.replicas.ready };
    const applied = status.conditions.filter((c) => c.type === 'ProcessRunning');
    const next = [...applied, ...o.conditions];
    if (!sameConditions(next, status.conditions)) status.conditions = next;
    status.error = o.state === 'Healthy' ? undefined : o.message;
  } catch (err) {
    status.state = 'Unhealthy';
    status.error = toBerthError(err).message;
  }
  return save();
}
