import type { IDeployment } from 'kubernetes-models/apps/v1';
import type { IPod } from 'kubernetes-models/v1';
import type { ServiceCondition, ServiceState } from '../../../store/service-store.js';

/** Container states that do not heal without a change (a new image, config or model). */
const STUCK_REASONS = new Set([
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

/** One pod as `berth service show` lists it. */
export interface ObservedPod {
  name: string;
  phase: string;
  ready: boolean;
  restarts: number;
  /** Why it is not ready, e.g. `init container fetch-models: CrashLoopBackOff (exit 1)`. */
  reason?: string;
}

/** What the Kubernetes target observed of a service, mapped onto the service vocabulary. */
export interface KubernetesObservation {
  state: ServiceState;
  replicas: { desired: number; ready: number; updated: number; available: number };
  conditions: ServiceCondition[];
  /** Why the state is not Healthy (absent when it is). */
  message?: string;
  pods: ObservedPod[];
}

type ContainerStatus = NonNullable<NonNullable<IPod['status']>['containerStatuses']>[number];

function containerProblem(kind: string, s: ContainerStatus): string | undefined {
  const waiting = s.state?.waiting;
  const term = s.state?.terminated ?? s.lastState?.terminated;
  if (waiting?.reason && waiting.reason !== 'PodInitializing' && waiting.reason !== 'ContainerCreating') {
    const exit = term ? ` (exit ${term.exitCode}${term.reason ? `, ${term.reason}` : ''})` : '';
    return `${kind} ${s.name}: ${waiting.reason}${exit}${waiting.message ? `: ${waiting.message}` : ''}`;
  }
  if (s.state?.terminated && s.state.terminated.exitCode !== 0) {
    return `${kind} ${s.name}: exited ${s.state.terminated.exitCode}${s.state.terminated.message ? `: ${s.state.terminated.message}` : ''}`;
  }
  return undefined;
}

function observePod(pod: IPod): ObservedPod & { stuck: boolean } {
  const st = pod.status ?? {};
  const statuses = [
    ...(st.initContainerStatuses ?? []).map((s) => ({ kind: 'init container', s })),
    ...(st.containerStatuses ?? []).map((s) => ({ kind: 'container', s })),
  ];
  let reason: string | undefined;
  let stuck = false;
  for (const { kind, s } of statuses) {
    const problem = containerProblem(kind, s);
    if (problem && !reason) reason = problem;
    if (s.state?.waiting?.reason && STUCK_REASONS.has(s.state.waiting.reason)) stuck = true;
  }
  const ready = (st.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  const unschedulable = (st.conditions ?? []).find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (!reason && unschedulable)
    reason = `not scheduled: ${unschedulable.message ?? unschedulable.reason ?? 'unknown'}`;
  if (st.phase === 'Failed') stuck = true;
  return {
    name: pod.metadata?.name ?? '?',
    phase: st.phase ?? 'Unknown',
    ready,
    restarts: statuses.reduce((n, { s }) => n + (s.restartCount ?? 0), 0),
    ...(reason && !ready ? { reason } : {}),
    stuck: stuck && !ready,
  };
}

/**
 * Maps a Deployment and its pods onto a service state (pure):
 * - Failed: the rollout passed its progress deadline, or a pod of the service is stuck
 *   (CrashLoopBackOff, image pull errors, a failing init container) while the rollout is not done;
 * - Transitioning: the controller has not seen the latest spec, or updated/available replicas are short;
 * - Healthy: every desired replica is updated, available and ready;
 * - Unhealthy: the rollout finished but fewer replicas are ready than desired.
 * A missing Deployment maps to Failed with a message saying so.
 */
export function observeKubernetesState(
  deployment: IDeployment | undefined,
  pods: readonly IPod[],
  now: Date = new Date(),
): KubernetesObservation {
  const at = now.toISOString();
  if (!deployment) {
    return {
      state: 'Failed',
      replicas: { desired: 0, ready: 0, updated: 0, available: 0 },
      conditions: [
        {
          type: 'ProcessRunning',
          status: 'False',
          reason: 'DeploymentMissing',
          message: 'The Deployment does not exist.',
          at,
        },
      ],
      message:
        'The Deployment does not exist in the cluster (deleted outside Berth?); update the service to re-create it.',
      pods: [],
    };
  }
  const spec = deployment.spec;
  const st = deployment.status ?? {};
  const desired = spec?.replicas ?? 1;
  const replicas = {
    desired,
    ready: st.readyReplicas ?? 0,
    updated: st.updatedReplicas ?? 0,
    available: st.availableReplicas ?? 0,
  };
  const observed = pods.map(observePod);
  const podView: ObservedPod[] = observed.map(({ stuck: _s, ...p }) => p);
  const latest = (st.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0);
  const progressing = (st.conditions ?? []).find((c) => c.type === 'Progressing');
  const deadline = progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded';
  const rolledOut = latest && replicas.updated >= desired && (st.replicas ?? 0) <= replicas.updated;
  const stuckPod = observed.find((p) => p.stuck);

  let state: ServiceState;
  let message: string | undefined;
  if (deadline) {
    state = 'Failed';
    message = `Rollout did not finish: ${progressing?.message ?? 'progress deadline exceeded'}${stuckPod?.reason ? `; pod ${stuckPod.name}: ${stuckPod.reason}` : ''}`;
  } else if (stuckPod && !(rolledOut && replicas.ready >= desired)) {
    state = 'Failed';
    message = `Pod ${stuckPod.name}: ${stuckPod.reason ?? stuckPod.phase}`;
  } else if (!rolledOut || replicas.available < desired) {
    state = 'Transitioning';
    const waiting = observed.find((p) => !p.ready && p.reason);
    message = `${replicas.ready}/${desired} replicas ready, ${replicas.updated} updated${waiting ? `; pod ${waiting.name}: ${waiting.reason}` : ''}`;
  } else if (replicas.ready < desired) {
    state = 'Unhealthy';
    message = `${replicas.ready}/${desired} replicas ready`;
  } else {
    state = 'Healthy';
  }
  const conditions: ServiceCondition[] = [
    {
      type: 'UpdateApplied',
      status: deadline ? 'False' : rolledOut ? 'True' : 'Unknown',
      reason: deadline ? 'ProgressDeadlineExceeded' : rolledOut ? 'RolledOut' : 'RollingOut',
      message: progressing?.message ?? '',
      at,
    },
    {
      type: 'ReplicasReady',
      status: replicas.ready >= desired ? 'True' : stuckPod ? 'False' : 'Unknown',
      reason: replicas.ready >= desired ? 'AllReady' : stuckPod ? 'PodFailing' : 'Starting',
      message: `${replicas.ready}/${desired} ready`,
      at,
    },
  ];
  return { state, replicas, conditions, ...(message ? { message } : {}), pods: podView };
}
