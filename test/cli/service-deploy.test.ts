import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { servicePaths } from '../../src/deploy/service-paths.js';
import type { ServiceView } from '../../src/deploy/service-view.js';
import { deployHarness, ENTRY_SCRIPTS, LINEAR_BODY, postJson, waitFor } from '../deploy/deploy-fixtures.js';

test('when the seed CLI flow runs with berth for az ml then the service deploys, answers, updates and goes away', async (t) => {
  const h = deployHarness(t);
  assert.equal((await h.registerLinear('sklearn_mnist')).code, 0);
  const ic = h.json('inferenceconfig.json', { runtime: 'onnx' });
  const dc = h.json('deploymentconfig.json', {
    computeType: 'local',
    authEnabled: true,
    numReplicas: 1,
    containerResourceRequirements: { cpu: 1, memoryInGB: 1 },
    tags: { team: 'ml' },
    description: 'seed flow',
  });

  // The seed's spelling: single-dash -ic / -dc, and no -n (the service is named after the model).
  const deploy = await h.berth(['model', 'deploy', '-m', 'sklearn_mnist:1', '-ic', ic, '-dc', dc]);
  assert.equal(deploy.code, 0, deploy.stderr);
  assert.match(deploy.stdout, /Deploying service "sklearn_mnist"/);
  assert.match(deploy.stdout, /ReplicasReady/);
  assert.match(deploy.stdout, /State:\s+Healthy/);
  assert.match(deploy.stdout, /Scoring URI:\s+http:\/\/127\.0\.0\.1:\d+\/score/);
  assert.match(deploy.stdout, /Swagger URI:\s+http:\/\/127\.0\.0\.1:\d+\/swagger\.json/);

  const shown = await h.berth(['--json', 'service', 'show', 'sklearn_mnist']);
  assert.equal(shown.code, 0, shown.stderr);
  const view = shown.json<ServiceView>();
  for (const key of [
    'name',
    'state',
    'scoringUri',
    'swaggerUri',
    'models',
    'computeType',
    'replicas',
    'authEnabled',
    'createdAt',
    'updatedAt',
    'error',
  ]) {
    assert.ok(key in view, `service JSON has ${key}`);
  }
  assert.equal(view.state, 'Healthy');
  assert.deepEqual(view.models, ['sklearn_mnist:1']);
  assert.equal(view.computeType, 'local');
  assert.deepEqual(view.replicas, { desired: 1, ready: 1 });
  assert.equal(view.authEnabled, true);
  assert.equal(view.error, null);
  assert.deepEqual(view.tags, { team: 'ml' });

  const keys = await h.jsonOk<{
    primaryKey: string;
    secondaryKey: string;
  }>(['service', 'keys', 'sklearn_mnist']);
  assert.ok(keys.primaryKey.length >= 16 && keys.secondaryKey.length >= 16);
  assert.equal((await postJson(view.scoringUri, LINEAR_BODY)).status, 401);
  const scored = await postJson(view.scoringUri, LINEAR_BODY, {
    authorization: `Bearer ${keys.secondaryKey}`,
  });
  assert.equal(scored.status, 200);
  const swagger = await fetch(view.swaggerUri);
  assert.equal(swagger.status, 200);

  const invoked = await h.berth([
    'service',
    'invoke',
    'sklearn_mnist',
    '--data',
    JSON.stringify(LINEAR_BODY),
  ]);
  assert.equal(invoked.code, 0, invoked.stderr);
  assert.deepEqual(JSON.parse(invoked.stdout), scored.body);

  const list = await h.berth(['--json', 'service', 'list']);
  assert.deepEqual(
    list.json<ServiceView[]>().map((s) => [s.name, s.state]),
    [['sklearn_mnist', 'Healthy']],
  );

  // Update to a new model version (the seed's service.update(models=[new_model])).
  assert.equal((await h.registerLinear('sklearn_mnist')).code, 0);
  const updated = await h.berth(['--json', 'service', 'update', 'sklearn_mnist', '-m', 'sklearn_mnist:2']);
  assert.equal(updated.code, 0, updated.stderr);
  const after = updated.json<ServiceView>();
  assert.deepEqual(after.models, ['sklearn_mnist:2']);
  assert.equal(after.state, 'Healthy');
  assert.equal(after.scoringUri, view.scoringUri);
  assert.equal(after.lastUpdate?.outcome, 'Succeeded');
  assert.equal(
    (await postJson(view.scoringUri, LINEAR_BODY, { authorization: `Bearer ${keys.primaryKey}` })).status,
    200,
  );

  const logs = await h.berth(['service', 'logs', 'sklearn_mnist', '--tail', '50']);
  assert.equal(logs.code, 0);
  assert.match(logs.stdout, /replica ready/);
  // each request line is written once: to the service log, not again to the console file
  const files = servicePaths(h.ws, 'sklearn_mnist');
  assert.match(readFileSync(files.logFile, 'utf8'), /"msg":"request"/);
  assert.doesNotMatch(readFileSync(files.consoleFile, 'utf8'), /"msg":"request"|replica ready/);

  // The served model cannot be deleted; the old one, no longer served, can.
  const refused = await h.berth(['model', 'delete', 'sklearn_mnist:2']);
  assert.equal(refused.code, 4);
  assert.match(refused.stderr, /MODEL_IN_USE/);
  assert.match(refused.stderr, /sklearn_mnist/);
  assert.equal((await h.berth(['model', 'delete', 'sklearn_mnist:1'])).code, 0);

  const deleted = await h.berth(['service', 'delete', 'sklearn_mnist']);
  assert.equal(deleted.code, 0, deleted.stderr);
  await assert.rejects(fetch(view.scoringUri, { method: 'POST', body: '{}' }));
  const gone = await h.berth(['--json', 'service', 'show', 'sklearn_mnist']);
  assert.equal(gone.code, 3);
  assert.match(gone.stderr, /SERVICE_NOT_FOUND/);
  assert.equal((await h.berth(['model', 'delete', 'sklearn_mnist:2'])).code, 0);
});

test('when deploying with --no-wait and two models then the command returns Transitioning and the service gets Healthy', async (t) => {
  const h = deployHarness(t);
  await h.registerLinear('a');
  await h.registerLinear('b');
  const ic = h.json('ic.json', { entryScript: 'echo.js', sourceDirectory: ENTRY_SCRIPTS });
  const res = await h.berth([
    '--json',
    'model',
    'deploy',
    '-n',
    'two',
    '-m',
    'a:1',
    '-m',
    'b',
    '--ic',
    ic,
    '--no-wait',
  ]);
  assert.equal(res.code, 0, res.stderr);
  const view = res.json<ServiceView>();
  assert.equal(view.state, 'Transitioning');
  assert.deepEqual(view.models, ['a:1', 'b:1']);
  assert.equal(view.runtime, 'node');
  await waitFor(
    async () => (await h.jsonOk<ServiceView>(['service', 'show', 'two'])).state === 'Healthy',
    'Healthy',
  );
  const echoed = await postJson(view.scoringUri, { hello: 'world' });
  assert.deepEqual(echoed, { status: 200, body: { hello: 'world' } });
});
