import type {
  ConditionType,
  ServiceCondition,
  ServiceRecord,
  ServiceState,
  ServiceStatus,
} from '../store/service-store.js';

/** Condition reasons after which the control plane stops trying until the service is updated. */
export const TERMINAL_REASONS: ReadonlySet<string> = new Set([
  'ModelUnavailable',
  'EntryScriptNotFound',
  'EnvironmentBuildFailed',
  'InitFailed',
  'PortInUse',
  'StartFailed',
  'NotSupported',
]);

/** Returns `conditions` with `type` set; `at` changes only when the status does. */
export function setCondition(
  conditions: readonly ServiceCondition[],
  type: ConditionType,
  status: ServiceCondition['status'],
  reason: string,
  message: string,
  now: Date,
): ServiceCondition[] {
  const previous = conditions.find((c) => c.type === type);
  const at = previous && previous.status === status ? previous.at : now.toISOString();
  const next: ServiceCondition = { type, status, reason, message, at };
  const order: ConditionType[] = [
    'ModelsReady',
    'EnvironmentReady',
    'ProcessRunning',
    'ReplicasReady',
    'UpdateApplied',
  ];
  return [...conditions.filter((c) => c.type !== type), next].sort(
    (a, b) => order.indexOf(a.type) - order.indexOf(b.type),
  );
}

export function findCondition(
  conditions: readonly ServiceCondition[],
  type: ConditionType,
): ServiceCondition | undefined {
  return conditions.find((c) => c.type === type);
}

/** True when a condition says the service cannot run as desired until it is changed. */
export function hasTerminalFailure(conditions: readonly ServiceCondition[]): boolean {
  return conditions.some((c) => c.status === 'False' && TERMINAL_REASONS.has(c.reason));
}

/**
 * Aggregates conditions to the service state: Deleting while deleting; Failed on a terminal failure;
 * Transitioning while a rolling update runs; Healthy when every replica is ready; Unhealthy when a
 * service that was serving lost readiness (restarting); else Transitioning (first start).
 */
export function aggregateState(
  record: Pick<ServiceRecord, 'deleting'>,
  status: Omit<ServiceStatus, 'state'>,
): ServiceState {
  if (record.deleting) return 'Deleting';
  if (hasTerminalFailure(status.conditions)) return 'Failed';
  if (status.reload) return 'Transitioning';
  if (findCondition(status.conditions, 'ReplicasReady')?.status === 'True') return 'Healthy';
  if (status.appliedGeneration > 0) return 'Unhealthy';
  return 'Transitioning';
}
