import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDeploymentConfig } from '../../src/core/config/deployment-config.js';
import { PLAN_DEFAULTS, planReconcile } from '../../src/deploy/plan-reconcile.js';
import type { ServeState } from '../../src/serving/serve-spec.js';
import type { ServiceDesired, ServiceRecord, ServiceStatus } from '../../src/store/service-store.js';

const NOW = new Date('2026-01-01T00:00:10.000Z');

function desired(port = 5100): ServiceDesired {
  return {
    models: ['iris:1'],
    inferenceConfig: { runtime: 'onnx' },
    deploymentConfig: parseDeploymentConfig({ computeType: 'local' }),
    keys: { primaryKey: 'p'.repeat(32), secondaryKey: 's'.repeat(32) },
    port,
  };
}

function record(status: Partial<ServiceStatus> = {}, extra: Partial<ServiceRecord> = {}): ServiceRecord {
  return {
    name: 'svc',
    computeType: 'local',
    desired: desired(),
    generation: 1,
    deleting: false,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    status: {
      state: 'Transitioning',
      conditions: [],
      observedGeneration: 0,
      appliedGeneration: 0,
      replicas: { desired: 1, ready: 0 },
      restarts: 0,
      ...status,
    },
    ...extra,
  };
}

function serveState(over: Partial<ServeState> = {}): ServeState {
  return {
    pid: 100,
    port: 5100,
    ready: true,
    replicas: { desired: 1, ready: 1 },
    restarts: 0,
    generation: 1,
    updatedAt: '2026-01-01T00:00:05.000Z',
    ...over,
  };
}

const proc = (generation = 1, startedAt = '2026-01-01T00:00:00.000Z') => ({
  pid: 100,
  port: 5100,
  startedAt,
  generation,
});

test('when a new service has no process then the plan starts one and the state is Transitioning', () => {
  const plan = planReconcile(record(), { running: false }, NOW);
  assert.equal(plan.action.kind, 'start');
  assert.equal(plan.status.state, 'Transitioning');
});

test('when the process reports ready for the desired generation then the service is Healthy and applied', () => {
  const plan = planReconcile(record({ process: proc() }), { running: true, serveState: serveState() }, NOW);
  assert.equal(plan.action.kind, 'none');
  assert.equal(plan.status.state, 'Healthy');
  assert.equal(plan.status.appliedGeneration, 1);
  assert.equal(plan.status.observedGeneration, 1);
  assert.deepEqual(plan.status.lastApplied, desired());
});

test('when the process gave up during its first start then the service is Failed and not restarted', () => {
  const plan = planReconcile(
    record({ process: proc() }),
    { running: false, serveState: serveState({ ready: false, failed: true, error: 'init failed: boom' }) },
    NOW,
  );
  assert.equal(plan.action.kind, 'none');
  assert.equal(plan.status.state, 'Failed');
  assert.equal(plan.status.error, 'init failed: boom');
  const again = planReconcile({ ...record(), status: plan.status }, { running: false }, NOW);
  assert.equal(again.action.kind, 'none');
  assert.equal(again.status.state, 'Failed');
});

test('when a serving process died then the plan restarts it and the service is Unhealthy meanwhile', () => {
  const serving = record({ process: proc(), appliedGeneration: 1, observedGeneration: 1, state: 'Healthy' });
  const plan = planReconcile(serving, { running: false }, NOW);
  assert.equal(plan.action.kind, 'start');
  assert.equal(plan.status.state, 'Unhealthy');
  assert.equal(plan.status.restarts, 1);
  assert.equal(plan.status.process, undefined);
});

test('when a process keeps dying right after its start then restarts wait with a growing delay', () => {
  const quick = record({
    process: proc(1, '2026-01-01T00:00:09.500Z'),
    appliedGeneration: 1,
    observedGeneration: 1,
    restarts: 2,
  });
  const plan = planReconcile(quick, { running: false }, NOW);
  assert.equal(plan.action.kind, 'none');
  assert.ok(plan.status.nextRestartAt && Date.parse(plan.status.nextRestartAt) > NOW.getTime());
  const later = new Date(Date.parse(plan.status.nextRestartAt) + 1);
  assert.equal(
    planReconcile({ ...quick, status: plan.status }, { running: false }, later).action.kind,
    'start',
  );
});

test('when the desired generation is newer than the serving one then the plan is a rolling reload', () => {
  const r = record({ process: proc(), appliedGeneration: 1, observedGeneration: 1 }, { generation: 2 });
  const plan = planReconcile(r, { running: true, serveState: serveState() }, NOW);
  assert.equal(plan.action.kind, 'reload');
});

test('when an update changes the port then the plan restarts instead of reloading', () => {
  const r = record(
    { process: proc(), appliedGeneration: 1, observedGeneration: 1 },
    { generation: 2, desired: desired(5200) },
  );
  assert.equal(planReconcile(r, { running: true, serveState: serveState() }, NOW).action.kind, 'restart');
});

test('when a reload is pending and the serve generation grew then the update succeeded', () => {
  const r = record(
    {
      process: proc(),
      appliedGeneration: 1,
      observedGeneration: 1,
      reload: {
        generation: 2,
        sentAt: '2026-01-01T00:00:06.000Z',
        baseServeGeneration: 1,
        desired: desired(),
      },
    },
    { generation: 2 },
  );
  const pending = planReconcile(r, { running: true, serveState: serveState() }, NOW);
  assert.equal(pending.action.kind, 'none');
  assert.equal(pending.status.state, 'Transitioning');
  const done = planReconcile(r, { running: true, serveState: serveState({ generation: 2 }) }, NOW);
  assert.equal(done.status.state, 'Healthy');
  assert.equal(done.status.appliedGeneration, 2);
  assert.equal(done.status.lastUpdate?.outcome, 'Succeeded');
});

test('when a reload is reported failed then the plan rolls back and the old version keeps serving', () => {
  const r = record(
    {
      process: proc(),
      appliedGeneration: 1,
      observedGeneration: 1,
      reload: {
        generation: 2,
        sentAt: '2026-01-01T00:00:06.000Z',
        baseServeGeneration: 1,
        desired: desired(),
      },
    },
    { generation: 2 },
  );
  const st = serveState({
    error: 'Reload to generation 2 failed; generation 1 keeps serving. boom',
    updatedAt: '2026-01-01T00:00:07.000Z',
  });
  const plan = planReconcile(r, { running: true, serveState: st }, NOW);
  assert.equal(plan.action.kind, 'rollback');
  const fromLog = planReconcile(
    r,
    { running: true, serveState: serveState(), reloadFailure: 'Reload to generation 2 failed' },
    NOW,
  );
  assert.equal(fromLog.action.kind, 'rollback');
  const late = new Date(Date.parse('2026-01-01T00:00:06.000Z') + PLAN_DEFAULTS.reloadTimeoutMs + 1);
  assert.equal(planReconcile(r, { running: true, serveState: serveState() }, late).action.kind, 'rollback');
});

test('when the service is being deleted then the plan removes it and the state is Deleting', () => {
  const plan = planReconcile(record({ process: proc() }, { deleting: true }), { running: true }, NOW);
  assert.equal(plan.action.kind, 'remove');
  assert.equal(plan.status.state, 'Deleting');
});
