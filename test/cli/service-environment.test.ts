import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ServiceView } from '../../src/deploy/service-view.js';
import {
  deployHarness,
  ENTRY_SCRIPTS,
  postJson,
  waitFor,
  writeFixturePackage,
} from '../deploy/deploy-fixtures.js';

test('when an entry script needs dependencies then they are installed once, shared by services, and importable', async (t) => {
  const h = deployHarness(t);
  await h.registerLinear();
  const pkg = writeFixturePackage(h.dir);
  const ic = h.json('ic.json', {
    entryScript: 'env-import.js',
    sourceDirectory: ENTRY_SCRIPTS,
    dependencies: { 'berth-env-fixture-pkg': `file:${pkg}` },
  });
  const first = await h.berth(['--json', 'model', 'deploy', '-n', 'env1', '-m', 'linear:1', '--ic', ic], {
    timeoutMs: 300_000,
  });
  assert.equal(first.code, 0, first.stderr);
  const v1 = first.json<ServiceView>();
  assert.equal(v1.state, 'Healthy');
  assert.match(v1.conditions.find((c) => c.type === 'EnvironmentReady')?.message ?? '', /built/);
  assert.deepEqual(await postJson(v1.scoringUri, { name: 'berth' }), { status: 200, body: 'hello berth' });

  const second = await h.berth(['--json', 'model', 'deploy', '-n', 'env2', '-m', 'linear:1', '--ic', ic]);
  assert.equal(second.code, 0, second.stderr);
  assert.match(
    second.json<ServiceView>().conditions.find((c) => c.type === 'EnvironmentReady')?.message ?? '',
    /reused/,
  );
  assert.equal(readdirSync(join(h.ws, 'environments')).length, 1);
});

test('when the dependencies cannot be installed then the service is Failed and its logs hold npm output', async (t) => {
  const h = deployHarness(t);
  await h.registerLinear();
  const ic = h.json('ic.json', {
    entryScript: 'echo.js',
    sourceDirectory: ENTRY_SCRIPTS,
    dependencies: { 'berth-missing-pkg': `file:${join(h.dir, 'missing.tgz')}` },
  });
  const res = await h.berth(['model', 'deploy', '-n', 'noenv', '-m', 'linear:1', '--ic', ic], {
    timeoutMs: 300_000,
  });
  assert.equal(res.code, 9, res.stdout + res.stderr);
  assert.match(res.stderr, /DEPLOYMENT_FAILED/);
  assert.match(res.stderr, /npm install/);
  const view = await h.jsonOk<ServiceView>(['service', 'show', 'noenv']);
  assert.equal(view.state, 'Failed');
  assert.equal(view.conditions.find((c) => c.type === 'EnvironmentReady')?.reason, 'EnvironmentBuildFailed');
  const logs = await h.berth(['service', 'logs', 'noenv']);
  assert.match(logs.stdout, /ENOENT|missing\.tgz/);
});

test('when data collection is enabled then scored inputs and outputs land as JSON lines under the service folder', async (t) => {
  const h = deployHarness(t);
  await h.registerLinear();
  const ic = h.json('ic.json', { entryScript: 'echo.js', sourceDirectory: ENTRY_SCRIPTS });
  const dc = h.json('dc.json', { dataCollection: { storageEnabled: true } });
  const view = await h.jsonOk<ServiceView>([
    'model',
    'deploy',
    '-n',
    'collect',
    '-m',
    'linear:1',
    '--ic',
    ic,
    '--dc',
    dc,
  ]);
  assert.equal(view.dataCollectionDir, join(h.ws, 'services', 'collect', 'data'));
  assert.equal((await postJson(view.scoringUri, { x: 42 })).status, 200);
  const dir = view.dataCollectionDir!;
  const file = await waitFor(
    () => existsSync(dir) && readdirSync(dir).find((f) => f.endsWith('.jsonl')),
    'a data file',
  );
  assert.match(file, /^\d{4}-\d{2}-\d{2}\.jsonl$/);
  const line = JSON.parse(readFileSync(join(dir, file), 'utf8').trim().split('\n')[0]);
  assert.deepEqual(line.input, { x: 42 });
  assert.deepEqual(line.output, { x: 42 });
});
