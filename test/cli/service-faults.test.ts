import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ServiceView } from '../../src/deploy/service-view.js';
import {
  deployHarness,
  ENTRY_SCRIPTS,
  LINEAR_BODY,
  postJson,
  startLoad,
  waitFor,
} from '../deploy/deploy-fixtures.js';

test('when the entry script init throws then the deploy fails with exit 9, the service is Failed, and logs hold the error and stack', async (t) => {
  const h = deployHarness(t);
  await h.registerLinear();
  const ic = h.json('ic.json', { entryScript: 'throws-in-init.js', sourceDirectory: ENTRY_SCRIPTS });
  const res = await h.berth(['model', 'deploy', '-n', 'broken', '-m', 'linear:1', '--ic', ic]);
  assert.equal(res.code, 9, res.stdout + res.stderr);
  assert.match(res.stderr, /Code:\s+DEPLOYMENT_FAILED/);
  assert.match(res.stderr, /cannot open the model file/);
  assert.match(res.stderr, /berth service logs broken/);

  const view = await h.jsonOk<ServiceView>(['service', 'show', 'broken']);
  assert.equal(view.state, 'Failed');
  assert.match(view.error ?? '', /cannot open the model file/);

  const logs = await h.berth(['service', 'logs', 'broken']);
  assert.equal(logs.code, 0);
  assert.match(logs.stdout, /cannot open the model file/);
  assert.match(logs.stdout, /at (\S+\.)?init \(.*throws-in-init\.js/);

  // Failed stays Failed (no restart loop), until an update fixes it.
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await h.jsonOk<ServiceView>(['service', 'show', 'broken'])).state, 'Failed');
  const good = h.json('ic-good.json', { entryScript: 'echo.js', sourceDirectory: ENTRY_SCRIPTS });
  const fixed = await h.berth(['--json', 'service', 'update', 'broken', '--ic', good]);
  assert.equal(fixed.code, 0, fixed.stderr);
  assert.equal(fixed.json<ServiceView>().state, 'Healthy');
  assert.equal(fixed.json<ServiceView>().error, null);
});

test('when a replica process is killed then the control plane restarts it and the service is Healthy again', async (t) => {
  const h = deployHarness(t);
  await h.registerLinear();
  const ic = h.json('ic.json', { runtime: 'onnx' });
  const deployed = await h.jsonOk<ServiceView>([
    'model',
    'deploy',
    '-n',
    'svc',
    '-m',
    'linear:1',
    '--ic',
    ic,
  ]);
  assert.equal(deployed.state, 'Healthy');
  assert.ok(deployed.pid);
  process.kill(deployed.pid, 'SIGKILL');
  const back = await waitFor(async () => {
    const v = await h.jsonOk<ServiceView>(['service', 'show', 'svc']);
    return v.state === 'Healthy' && v.pid !== deployed.pid ? v : undefined;
  }, 'the service to be Healthy with a new replica process');
  assert.equal(back.restarts, 1);
  assert.equal(back.scoringUri, deployed.scoringUri);
  assert.equal((await postJson(back.scoringUri, LINEAR_BODY)).status, 200);
  const logs = await h.berth(['service', 'logs', 'svc']);
  assert.match(logs.stdout, /Started replica process/);
});

test('when the control plane is killed with SIGKILL and started again then services answer the whole time and nothing is lost', async (t) => {
  const h = deployHarness(t);
  await h.registerLinear();
  const ic = h.json('ic.json', { runtime: 'onnx' });
  const dc = h.json('dc.json', { authEnabled: true, tags: { keep: 'me' } });
  const before = await h.jsonOk<ServiceView>([
    'model',
    'deploy',
    '-n',
    'svc',
    '-m',
    'linear:1',
    '--ic',
    ic,
    '--dc',
    dc,
  ]);
  const keys = await h.jsonOk<{ primaryKey: string }>(['service', 'keys', 'svc']);
  const headers = { authorization: `Bearer ${keys.primaryKey}` };
  const load = startLoad(t, before.scoringUri, LINEAR_BODY, { headers });

  const info = JSON.parse(readFileSync(join(h.ws, 'control-plane.json'), 'utf8')) as {
    pid: number;
    token: string;
    url: string;
  };
  process.kill(info.pid, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 1000));
  // Any service command brings the control plane back; it adopts the running replica.
  const after = await h.jsonOk<ServiceView>(['service', 'show', 'svc']);
  await new Promise((r) => setTimeout(r, 500));
  const result = await load.stop();

  assert.equal(result.failed, 0, result.errors.join('\n'));
  assert.ok(result.ok > 0);
  const restarted = JSON.parse(readFileSync(join(h.ws, 'control-plane.json'), 'utf8')) as {
    pid: number;
    token: string;
  };
  assert.notEqual(restarted.pid, info.pid);
  assert.equal(restarted.token, info.token, 'the API token survives the restart');
  assert.equal(after.state, 'Healthy');
  assert.equal(after.pid, before.pid, 'the replica process was adopted, not restarted');
  assert.equal(after.restarts, 0);
  assert.equal(after.generation, before.generation);
  assert.deepEqual(after.models, before.models);
  assert.deepEqual(after.tags, { keep: 'me' });
  assert.equal(
    (await h.jsonOk<{ primaryKey: string }>(['service', 'keys', 'svc'])).primaryKey,
    keys.primaryKey,
  );
});
