import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDeploymentConfig } from '../../src/core/config/deployment-config.js';
import { BerthError } from '../../src/core/errors.js';
import { openWorkspaceStores } from '../../src/store/open-store.js';
import type { ServiceDesired, ServiceStatus } from '../../src/store/service-store.js';
import { SqliteServiceStore } from '../../src/store/sqlite/sqlite-service-store.js';
import { tempDir } from '../helpers/temp-dir.js';

const status: ServiceStatus = {
  state: 'Transitioning',
  conditions: [],
  observedGeneration: 0,
  appliedGeneration: 0,
  replicas: { desired: 1, ready: 0 },
  restarts: 0,
};

function desired(models: string[]): ServiceDesired {
  return {
    models,
    inferenceConfig: { runtime: 'onnx' },
    deploymentConfig: parseDeploymentConfig({}),
    keys: { primaryKey: 'a'.repeat(32), secondaryKey: 'b'.repeat(32) },
    port: 5555,
  };
}

function open(t: Parameters<typeof tempDir>[0]) {
  const stores = openWorkspaceStores(tempDir(t));
  t.after(() => stores.close());
  return new SqliteServiceStore(stores.db);
}

test('when a service is created then it reads back at generation 1 with its desired state', (t) => {
  const store = open(t);
  store.create({ name: 'svc', computeType: 'local', desired: desired(['iris:1']), status });
  const r = store.get('svc');
  assert.equal(r.generation, 1);
  assert.deepEqual(r.desired.models, ['iris:1']);
  assert.equal(r.status.state, 'Transitioning');
  assert.deepEqual(
    store.list().map((s) => s.name),
    ['svc'],
  );
});

test('when a second service takes an existing name then SERVICE_ALREADY_EXISTS hints at update', (t) => {
  const store = open(t);
  store.create({ name: 'svc', computeType: 'local', desired: desired(['iris:1']), status });
  assert.throws(
    () => store.create({ name: 'svc', computeType: 'local', desired: desired(['iris:2']), status }),
    (err: BerthError) =>
      err.code === 'SERVICE_ALREADY_EXISTS' && err.status === 409 && /update/.test(err.hint ?? ''),
  );
});

test('when the desired state changes then the generation grows and the model index follows', (t) => {
  const store = open(t);
  store.create({ name: 'svc', computeType: 'local', desired: desired(['iris:1']), status });
  store.updateStatus('svc', { ...status, lastApplied: desired(['iris:1']) });
  const r = store.updateDesired('svc', desired(['iris:2']));
  assert.equal(r.generation, 2);
  // Both the served (old) and the desired (new) versions count as in use during the update.
  assert.deepEqual(store.servicesUsingModel('iris', 1), ['svc']);
  assert.deepEqual(store.servicesUsingModel('iris', 2), ['svc']);
  store.updateStatus('svc', { ...status, lastApplied: desired(['iris:2']) });
  assert.deepEqual(store.servicesUsingModel('iris', 1), []);
  store.remove('svc');
  assert.deepEqual(store.servicesUsingModel('iris', 2), []);
});

test('when a service does not exist then get throws SERVICE_NOT_FOUND with status 404', (t) => {
  const store = open(t);
  assert.throws(
    () => store.get('nope'),
    (err: BerthError) => err instanceof BerthError && err.code === 'SERVICE_NOT_FOUND' && err.status === 404,
  );
  assert.throws(() => store.updateDesired('nope', desired(['iris:1'])), { code: 'SERVICE_NOT_FOUND' });
});
