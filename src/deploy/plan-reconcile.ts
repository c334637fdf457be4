import type { ServiceRecord, ServiceStatus } from '../store/service-store.js';
import { aggregateState, hasTerminalFailure, setCondition } from './service-conditions.js';
import type { ObservedReplicas } from './target.js';

/** What the controller must do to move a service toward its desired state. */
export type ReconcileAction =
  /** Nothing to do (steady, or waiting for the replicas or a backoff). */
  | { kind: 'none' }
  /** The service is being deleted: stop the replicas, remove files and the record. */
  | { kind: 'remove' }
  /** No replica process: prepare and start one. */
  | { kind: 'start' }
  /** A process runs but cannot be reloaded in place (port changed, or still starting): stop, then start. */
  | { kind: 'restart' }
  /** A process serves an older generation: prepare, rewrite the spec, SIGHUP (rolling update). */
  | { kind: 'reload' }
  /** The rolling update failed: the old replicas still serve; restore their spec and report `reason`. */
  | { kind: 'rollback'; reason: string };

export interface ReconcilePlan {
  action: ReconcileAction;
  /** The status with what was observed folded in (before acting). */
  status: ServiceStatus;
}

export interface PlanOptions {
  /** A rolling update not answered within this time counts as failed (ms). */
  reloadTimeoutMs: number;
  /** A replica process that dies sooner than this after its start is restarted with a growing delay (ms). */
  quickExitMs: number;
  /** Starts of a never-ready process that died without a reason before the service counts as Failed. */
  maxStartAttempts: number;
}

export const PLAN_DEFAULTS: PlanOptions = {
  reloadTimeoutMs: 330_000, // the serving init timeout (5 min) + 30 s
  quickExitMs: 10_000, // 10 s
  maxStartAttempts: 3,
};

/** Delay before restarting a process that keeps dying: 1, 2, 4 ... 30 s. */
export function restartBackoffMs(restarts: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.min(5, Math.max(0, restarts - 1)));
}

function desiredReplicas(record: ServiceRecord): number {
  const dc = record.desired.deploymentConfig;
  return dc.autoScaler?.autoscaleEnabled ? (dc.autoScaler.minReplicas ?? 1) : dc.numReplicas;
}

function failureReason(error: string | undefined): string {
  return error && /EADDRINUSE|PORT_IN_USE|address already in use/i.test(error) ? 'PortInUse' : 'InitFailed';
}

/**
 * Pure: desired state + observation → the status to record and the one action to take.
 * Re-running it after a crash of the control plane is harmless: every decision depends only on
 * the stored record and what is observed now.
 */
export function planReconcile(
  record: ServiceRecord,
  observed: ObservedReplicas,
  now: Date,
  options: PlanOptions = PLAN_DEFAULTS,
): ReconcilePlan {
  const s: ServiceStatus = structuredClone(record.status);
  const g = record.generation;
  const done = (action: ReconcileAction): ReconcilePlan => {
    s.state = aggregateState(record, s);
    return { action, status: s };
  };
  if (record.deleting) return done({ kind: 'remove' });

  const p = s.process;
  const st = observed.serveState;

  if (p && observed.running) {
    const replicas = st?.replicas ?? { desired: desiredReplicas(record), ready: 0 };
    s.replicas = replicas;
    s.conditions = setCondition(
      s.conditions,
      'ProcessRunning',
      'True',
      'Running',
      `Replica process ${p.pid} runs on port ${p.port}.`,
      now,
    );
    if (st?.failed) {
      s.conditions = setCondition(
        s.conditions,
        'ReplicasReady',
        'False',
        'Stopping',
        st.error ?? 'The replicas gave up.',
        now,
      );
      return done({ kind: 'none' });
    }
    if (s.reload) {
      const reload = s.reload;
      if (st && st.generation > reload.baseServeGeneration) {
        s.appliedGeneration = reload.generation;
        s.observedGeneration = Math.max(s.observedGeneration, reload.generation);
        s.lastApplied = reload.desired;
        s.lastUpdate = { generation: reload.generation, outcome: 'Succeeded', at: now.toISOString() };
        s.process = { ...p, generation: reload.generation };
        s.error = undefined;
        s.reload = undefined;
        s.conditions = setCondition(
          s.conditions,
          'UpdateApplied',
          'True',
          'Updated',
          `Generation ${reload.generation} serves.`,
          now,
        );
      } else if (st?.error && Date.parse(st.updatedAt) >= Date.parse(reload.sentAt)) {
        return done({ kind: 'rollback', reason: st.error });
      } else if (observed.reloadFailure) {
        return done({ kind: 'rollback', reason: observed.reloadFailure });
      } else if (now.getTime() - Date.parse(reload.sentAt) > options.reloadTimeoutMs) {
        return done({
          kind: 'rollback',
          reason: `the new replicas were not ready within ${Math.round(options.reloadTimeoutMs / 1000)} s`,
        });
      } else {
        return done({ kind: 'none' });
      }
    }
    const ready = st?.ready === true;
    s.conditions = ready
      ? setCondition(
          s.conditions,
          'ReplicasReady',
          'True',
          'Ready',
          `${replicas.ready}/${replicas.desired} replicas ready.`,
          now,
        )
      : setCondition(
          s.conditions,
          'ReplicasReady',
          'False',
          s.appliedGeneration > 0 ? 'NotReady' : 'Starting',
          `Waiting for replicas: ${replicas.ready}/${replicas.desired} ready.`,
          now,
        );
    const current = s.process ?? p;
    if (ready && current.generation > s.appliedGeneration) {
      s.appliedGeneration = current.generation;
      s.observedGeneration = Math.max(s.observedGeneration, current.generation);
      if (current.generation === g) s.lastApplied = record.desired;
      s.error = undefined;
      s.nextRestartAt = undefined;
    }
    if (ready) s.nextRestartAt = undefined;
    if (s.observedGeneration < g && current.generation < g) {
      const portChanged = record.desired.port !== current.port;
      return done({ kind: portChanged || s.appliedGeneration === 0 ? 'restart' : 'reload' });
    }
    return done({ kind: 'none' });
  }

  if (p) {
    // The recorded process is gone: it gave up (state file says failed), crashed, or was killed.
    s.process = undefined;
    s.reload = undefined;
    s.replicas = { desired: desiredReplicas(record), ready: 0 };
    const neverReady = s.appliedGeneration < p.generation;
    if (st?.failed && neverReady) {
      const reason = failureReason(st.error);
      s.observedGeneration = g;
      s.error = st.error ?? 'The replicas failed to start.';
      s.conditions = setCondition(
        s.conditions,
        'ProcessRunning',
        'False',
        'Exited',
        `Replica process ${p.pid} exited.`,
        now,
      );
      s.conditions = setCondition(s.conditions, 'ReplicasReady', 'False', reason, s.error, now);
      return done({ kind: 'none' });
    }
    s.restarts += 1;
    const livedMs = now.getTime() - Date.parse(p.startedAt);
    if (neverReady && livedMs < options.quickExitMs && s.restarts >= options.maxStartAttempts) {
      s.observedGeneration = g;
      s.error = `The replica process exited ${s.restarts} times before becoming ready; see berth service logs ${record.name}.`;
      s.conditions = setCondition(s.conditions, 'ProcessRunning', 'False', 'StartFailed', s.error, now);
      return done({ kind: 'none' });
    }
    const delay = livedMs < options.quickExitMs ? restartBackoffMs(s.restarts) : 0;
    s.nextRestartAt = delay > 0 ? new Date(now.getTime() + delay).toISOString() : undefined;
    s.conditions = setCondition(
      s.conditions,
      'ProcessRunning',
      'False',
      'Restarting',
      `Replica process ${p.pid} exited${st?.error ? `: ${st.error}` : ''}; restarting it (restart ${s.restarts}).`,
      now,
    );
    s.conditions = setCondition(
      s.conditions,
      'ReplicasReady',
      'False',
      'Restarting',
      `Waiting for replicas: 0/${s.replicas.desired} ready.`,
      now,
    );
    return done(delay > 0 ? { kind: 'none' } : { kind: 'start' });
  }

  if (hasTerminalFailure(s.conditions) && s.observedGeneration >= g) return done({ kind: 'none' });
  if (s.nextRestartAt && Date.parse(s.nextRestartAt) > now.getTime()) return done({ kind: 'none' });
  return done({ kind: 'start' });
}
