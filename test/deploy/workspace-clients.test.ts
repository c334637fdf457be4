import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Workspace } from '../../src/sdk/index.js';
import { deployHarness } from './deploy-fixtures.js';
import { runModelScenario } from './workspace-client.case.js';

test('when the model scenario runs on an embedded workspace then every step gives the expected result', async (t) => {
  const h = deployHarness(t);
  const ws = Workspace.open(h.ws);
  t.after(() => ws.close());
  await runModelScenario(ws, join(h.dir, 'files'));
});

test('when the same scenario runs on a remote workspace (Workspace.connect) then results and error codes are the same', async (t) => {
  const h = deployHarness(t);
  const started = await h.berth(['--json', 'server', 'start']);
  assert.equal(started.code, 0, started.stderr);
  const { url, token } = started.json<{ url: string; token: string }>();
  const ws = Workspace.connect(url, token);
  assert.equal(ws.client.kind, 'remote');
  await runModelScenario(ws, join(h.dir, 'files'));
});
