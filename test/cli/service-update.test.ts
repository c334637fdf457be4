import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServiceView } from '../../src/deploy/service-view.js';
import { deployHarness, ENTRY_SCRIPTS, LINEAR_BODY, postJson, startLoad } from '../deploy/deploy-fixtures.js';

test('when a service is updated under load then no request fails and the new version serves', async (t) => {
  const h = deployHarness(t);
  await h.registerLinear();
  await h.registerLinear();
  const ic = h.json('ic.json', { runtime: 'onnx' });
  const v1 = await h.jsonOk<ServiceView>(['model', 'deploy', '-n', 'svc', '-m', 'linear:1', '--ic', ic]);
  const load = startLoad(t, v1.scoringUri, LINEAR_BODY, { concurrency: 8 });
  await new Promise((r) => setTimeout(r, 300));
  const res = await h.berth(['--json', 'service', 'update', 'svc', '-m', 'linear:2']);
  await new Promise((r) => setTimeout(r, 300));
  const result = await load.stop();
  assert.equal(res.code, 0, res.stderr);
  assert.equal(result.failed, 0, result.errors.join('\n'));
  assert.ok(result.ok > 0);
  const v2 = res.json<ServiceView>();
  assert.deepEqual(v2.models, ['linear:2']);
  assert.equal(v2.state, 'Healthy');
  assert.equal(v2.generation, 2);
  assert.equal(v2.pid, v1.pid, 'a rolling update keeps the replica process (its workers are replaced)');
});

test('when the new version fails to start then the update exits 9, the old version keeps serving Healthy, and logs say why', async (t) => {
  const h = deployHarness(t);
  await h.registerLinear();
  const good = h.json('ic-good.json', { entryScript: 'echo.js', sourceDirectory: ENTRY_SCRIPTS });
  const bad = h.json('ic-bad.json', { entryScript: 'throws-in-init.js', sourceDirectory: ENTRY_SCRIPTS });
  const v1 = await h.jsonOk<ServiceView>(['model', 'deploy', '-n', 'svc', '-m', 'linear:1', '--ic', good]);
  const load = startLoad(t, v1.scoringUri, { hello: 1 }, { concurrency: 4 });
  const res = await h.berth(['service', 'update', 'svc', '--ic', bad]);
  const result = await load.stop();
  assert.equal(res.code, 9, res.stdout + res.stderr);
  assert.match(res.stderr, /DEPLOYMENT_FAILED/);
  assert.match(res.stderr, /keeps serving/);
  assert.equal(result.failed, 0, result.errors.join('\n'));

  const view = await h.jsonOk<ServiceView>(['service', 'show', 'svc']);
  assert.equal(view.state, 'Healthy');
  assert.match(view.error ?? '', /failed/);
  assert.equal(view.lastUpdate?.outcome, 'Failed');
  assert.match(
    view.inferenceConfig.entryScript ?? '',
    /echo\.js$/,
    'the desired state is rolled back to what serves',
  );
  assert.deepEqual(await postJson(v1.scoringUri, { hello: 2 }), { status: 200, body: { hello: 2 } });
  const logs = await h.berth(['service', 'logs', 'svc']);
  assert.match(logs.stdout, /cannot open the model file/);

  // The same bad update again fails again (not a hang), then a good one clears the error.
  const again = await h.berth(['service', 'update', 'svc', '--ic', bad]);
  assert.equal(again.code, 9);
  const fixed = await h.berth(['--json', 'service', 'update', 'svc', '--ic', good]);
  assert.equal(fixed.code, 0, fixed.stderr);
  assert.equal(fixed.json<ServiceView>().error, null);
});

test('when a service is deleted during requests then the requests in flight finish and then the port closes', async (t) => {
  const h = deployHarness(t);
  await h.registerLinear();
  const ic = h.json('ic.json', { entryScript: 'slow.js', sourceDirectory: ENTRY_SCRIPTS });
  const view = await h.jsonOk<ServiceView>(['model', 'deploy', '-n', 'slow', '-m', 'linear:1', '--ic', ic]);
  assert.equal(view.state, 'Healthy');
  const inFlight = Array.from({ length: 4 }, () => postJson(view.scoringUri, { ms: 1500 }));
  await new Promise((r) => setTimeout(r, 400));
  const deleted = await h.berth(['service', 'delete', 'slow']);
  assert.equal(deleted.code, 0, deleted.stderr);
  for (const r of await Promise.all(inFlight)) assert.deepEqual(r, { status: 200, body: { waited: 1500 } });
  await assert.rejects(postJson(view.scoringUri, { ms: 1 }));
  assert.equal((await h.berth(['service', 'show', 'slow'])).code, 3);
});
