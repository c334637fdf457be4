import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BerthError } from '../../src/core/errors.js';
import { findFreePort } from '../../src/deploy/targets/local/port-availability.js';
import { InferenceConfig, LocalWebservice, Model, Webservice, Workspace } from '../../src/sdk/index.js';
import { buildLinearModel, writeModel } from '../fixtures/models/onnx-model-builder.js';
import { deployHarness, ENTRY_SCRIPTS } from './deploy-fixtures.js';

test('when the seed SDK flow runs on an embedded workspace then deploy, wait, consume, update and delete work', async (t) => {
  const h = deployHarness(t);
  const ws = Workspace.open(h.ws);
  t.after(() => ws.close());
  const file = writeModel(join(h.dir, 'm'), 'linear.onnx', buildLinearModel());
  const model = await Model.register(ws, { name: 'sklearn_mnist', path: file });
  const inferenceConfig = new InferenceConfig({
    runtime: 'node',
    sourceDirectory: ENTRY_SCRIPTS,
    entryScript: 'echo.js',
  });
  const port = await findFreePort('127.0.0.1');
  const deploymentConfig = LocalWebservice.deployConfiguration({ port, authEnabled: true });

  const service = await Model.deploy(ws, 'myservice', [model], inferenceConfig, deploymentConfig);
  assert.equal(service.state, 'Transitioning');
  const lines: string[] = [];
  await service.waitForDeployment({ showOutput: true, output: (l) => lines.push(l) });
  assert.equal(service.state, 'Healthy');
  assert.ok(lines.some((l) => /ReplicasReady/.test(l)));
  assert.equal(service.scoringUri, `http://127.0.0.1:${port}/score`);
  assert.equal(service.swaggerUri, `http://127.0.0.1:${port}/swagger.json`);
  assert.equal(service.authEnabled, true);

  const keys = await service.getKeys();
  assert.equal(keys[0], keys.primaryKey);
  assert.equal(keys[1], keys.secondaryKey);
  const res = await fetch(service.scoringUri, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${keys[0]}` },
    body: JSON.stringify({ data: [[1, 2]] }),
  });
  assert.equal(res.status, 200);
  assert.deepEqual(await service.run({ data: [[3]] }), { data: [[3]] });
  assert.match(await service.getLogs(), /replica ready/);

  const model2 = await Model.register(ws, { name: 'sklearn_mnist', path: file });
  const same = await Webservice.get(ws, 'myservice');
  await same.update({ models: [model2] });
  assert.deepEqual(same.models, ['sklearn_mnist:2']);
  assert.equal(same.state, 'Healthy');
  await assert.rejects(
    model2.delete(),
    (err: BerthError) => err.code === 'MODEL_IN_USE' && /myservice/.test(err.message),
  );

  await assert.rejects(
    Model.deploy(ws, 'myservice', [model], inferenceConfig),
    (err: BerthError) => err.code === 'SERVICE_ALREADY_EXISTS' && err.status === 409,
  );
  await same.delete();
  await assert.rejects(
    Webservice.get(ws, 'myservice'),
    (err: BerthError) => err.code === 'SERVICE_NOT_FOUND',
  );
  await model2.delete();
});

test('when a remote workspace is driven with Workspace.connect then models and services work as embedded, files crossing the wire', async (t) => {
  const h = deployHarness(t);
  const started = await h.berth(['--json', 'server', 'start']);
  assert.equal(started.code, 0, started.stderr);
  const { url, token } = started.json<{ url: string; token: string }>();

  const denied = Workspace.connect(url, 'wrong-token');
  await assert.rejects(
    denied.client.listModels(),
    (err: BerthError) => err.code === 'UNAUTHORIZED' && err.status === 401,
  );

  const ws = Workspace.connect(url, token);
  const file = writeModel(join(h.dir, 'm'), 'linear.onnx', buildLinearModel());
  const model = await Model.register(ws, { name: 'linear', path: file, tags: { stage: 'dev' } });
  assert.equal(model.id, 'linear:1');
  assert.deepEqual(model.tags, { stage: 'dev' });
  const folder = join(h.dir, 'folder-model');
  mkdirSync(join(folder, 'sub'), { recursive: true });
  writeFileSync(join(folder, 'weights.bin'), 'abc');
  writeFileSync(join(folder, 'sub', 'meta.json'), '{"k":1}');
  const folderModel = await Model.register(ws, { name: 'folder', path: folder });
  assert.deepEqual(
    folderModel.files.map((f) => f.path),
    ['sub/meta.json', 'weights.bin'],
  );
  const out = join(h.dir, 'downloaded');
  await folderModel.download(out);
  assert.equal(readFileSync(join(out, 'sub', 'meta.json'), 'utf8'), '{"k":1}');
  assert.deepEqual(
    (await Model.list(ws, { tags: { stage: 'dev' } })).map((m) => m.id),
    ['linear:1'],
  );
  await assert.rejects(
    Model.get(ws, 'nope'),
    (err: BerthError) => err.code === 'MODEL_NOT_FOUND' && err.status === 404,
  );

  // The entry script's folder is uploaded with the deploy (a helper module proves the whole folder came).
  const src = join(h.dir, 'code');
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, 'helper.mjs'), 'export const tag = "remote";\n');
  writeFileSync(
    join(src, 'score.mjs'),
    "import { tag } from './helper.mjs';\nexport function init() {}\nexport function run(input) { return { tag, input }; }\n",
  );
  const ic = new InferenceConfig({ sourceDirectory: src, entryScript: 'score.mjs' });
  const service = await Model.deploy(
    ws,
    'remote-svc',
    ['linear:1'],
    ic,
    LocalWebservice.deployConfiguration({ authEnabled: true }),
  );
  await service.waitForDeployment();
  assert.equal(service.state, 'Healthy');
  assert.ok(service.toJSON().inferenceConfig.entryScript?.startsWith(join(h.ws, 'sources')));
  assert.deepEqual(await service.run({ x: 1 }), { tag: 'remote', input: { x: 1 } });
  const before = await service.getKeys();
  const after = await service.regenerateKey('secondary');
  assert.equal(after.primaryKey, before.primaryKey);
  assert.notEqual(after.secondaryKey, before.secondaryKey);
  assert.match(await service.getLogs({ tail: 20 }), /\S/);

  // The CLI drives the same remote workspace with --url/--token.
  const listed = await h.berth(['--url', url, '--token', token, '--json', 'service', 'list']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(
    listed.json<{ name: string }[]>().map((s) => s.name),
    ['remote-svc'],
  );

  await service.update({ models: ['folder:1'] });
  assert.deepEqual(service.models, ['folder:1']);
  await assert.rejects(folderModel.delete(), (err: BerthError) => err.code === 'MODEL_IN_USE');
  await service.delete();
  await folderModel.delete();
  await model.delete();
  assert.deepEqual(await Model.list(ws), []);
});
