import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BerthError, Model, type ModelVersion, Workspace } from '../../src/sdk/index.js';
import { tempDir } from '../helpers/temp-dir.js';

test('when the SDK registers, lists, gets, tags, aliases, downloads and deletes then results are typed models', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'model'));
  writeFileSync(join(dir, 'model', 'model.onnx'), 'weights');
  writeFileSync(join(dir, 'model', 'labels.txt'), 'a\nb\n');
  const ws = Workspace.open(join(dir, 'ws'));
  t.after(() => ws.close());
  assert.equal(ws.location, join(dir, 'ws'));

  const m = await Model.register(ws, {
    name: 'iris',
    path: join(dir, 'model'),
    tags: { stage: 'dev' },
    properties: { accuracy: '0.97' },
    description: 'Iris classifier',
  });
  assert.ok(m instanceof Model);
  assert.equal(m.id, 'iris:1');
  assert.equal(m.fileCount, 2);
  assert.deepEqual(m.tags, { stage: 'dev' });
  await Model.register(ws, { name: 'iris', path: join(dir, 'model', 'model.onnx') });

  const all = await Model.list(ws);
  assert.deepEqual(
    all.map((x) => x.id),
    ['iris:2', 'iris:1'],
  );
  assert.deepEqual(
    (await Model.list(ws, { name: 'iris', tags: { stage: 'dev' } })).map((x) => x.id),
    ['iris:1'],
  );
  assert.equal((await Model.get(ws, 'iris')).version, 2);

  await m.tag({ add: { stage: 'prod' } });
  assert.deepEqual(m.tags, { stage: 'prod' }, 'the instance is updated');
  await m.setAlias('production');
  assert.deepEqual(m.aliases, ['production']);
  const viaAlias = await Model.get(ws, 'iris@production');
  assert.equal(viaAlias.id, 'iris:1');

  const json = JSON.parse(JSON.stringify(viaAlias)) as ModelVersion;
  assert.equal(json.id, 'iris:1');
  assert.equal(json.description, 'Iris classifier');
  assert.deepEqual(json.properties, { accuracy: '0.97' });

  const out = await viaAlias.download(join(dir, 'out'));
  assert.equal(readFileSync(join(out, 'labels.txt'), 'utf8'), 'a\nb\n');

  await viaAlias.delete();
  await assert.rejects(
    Model.get(ws, 'iris:1'),
    (e) => e instanceof BerthError && e.code === 'MODEL_NOT_FOUND',
  );
});

test('when the SDK is given bad input then it rejects with the same codes as the CLI', async (t) => {
  const dir = tempDir(t);
  const ws = Workspace.open(join(dir, 'ws'));
  t.after(() => ws.close());
  await assert.rejects(
    Model.register(ws, { name: 'iris', path: join(dir, 'missing') }),
    (e) => e instanceof BerthError && e.code === 'PATH_NOT_FOUND' && e.exitCode === 2,
  );
  await assert.rejects(
    Model.get(ws, 'not a ref'),
    (e) => e instanceof BerthError && e.code === 'INVALID_MODEL_REF',
  );
  assert.deepEqual(await Model.list(ws), []);
});
