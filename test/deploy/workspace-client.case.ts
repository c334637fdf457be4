import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError, Model, type ModelVersion, type Workspace } from '../../src/sdk/index.js';

/**
 * One scenario of the model half of the SDK, run against every WorkspaceClient (embedded and remote)
 * so that both behave the same: same results, same error codes.
 */
export async function runModelScenario(ws: Workspace, dir: string): Promise<void> {
  mkdirSync(join(dir, 'model'), { recursive: true });
  writeFileSync(join(dir, 'model', 'model.onnx'), 'weights');
  writeFileSync(join(dir, 'model', 'labels.txt'), 'a\nb\n');
  const m = await Model.register(ws, {
    name: 'iris',
    path: join(dir, 'model'),
    tags: { stage: 'dev' },
    properties: { accuracy: '0.97' },
    description: 'Iris classifier',
  });
  assert.equal(m.id, 'iris:1');
  assert.equal(m.fileCount, 2);
  const single = await Model.register(ws, { name: 'iris', path: join(dir, 'model', 'model.onnx') });
  assert.equal(single.fileCount, 1);
  assert.deepEqual(
    single.files.map((f) => f.path),
    ['model.onnx'],
  );
  assert.equal(single.description, null);
  assert.deepEqual(
    (await Model.list(ws)).map((x) => x.id),
    ['iris:2', 'iris:1'],
  );
  assert.deepEqual(
    (await Model.list(ws, { name: 'iris', tags: { stage: 'dev' } })).map((x) => x.id),
    ['iris:1'],
  );
  assert.deepEqual(
    (await Model.list(ws, { tags: { stage: true }, latest: true })).map((x) => x.id),
    ['iris:1'],
  );
  assert.equal((await Model.get(ws, 'iris')).version, 2);
  await m.tag({ add: { stage: 'prod' } });
  assert.deepEqual(m.tags, { stage: 'prod' });
  await m.setAlias('production');
  const viaAlias = await Model.get(ws, 'iris@production');
  const json = JSON.parse(JSON.stringify(viaAlias)) as ModelVersion;
  assert.equal(json.id, 'iris:1');
  assert.deepEqual(json.properties, { accuracy: '0.97' });
  assert.deepEqual(json.aliases, ['production']);
  const out = await viaAlias.download(join(dir, 'out'));
  assert.equal(readFileSync(join(out, 'labels.txt'), 'utf8'), 'a\nb\n');
  await viaAlias.delete();

  const code = async (p: Promise<unknown>) => {
    try {
      await p;
      return 'no error';
    } catch (err) {
      return err instanceof BerthError ? `${err.code} ${err.status}` : String(err);
    }
  };
  assert.equal(await code(Model.get(ws, 'iris:1')), 'MODEL_NOT_FOUND 404');
  assert.equal(await code(Model.get(ws, 'not a ref')), 'INVALID_MODEL_REF 400');
  assert.equal(
    await code(Model.register(ws, { name: 'iris', path: join(dir, 'missing') })),
    'PATH_NOT_FOUND 400',
  );
  assert.equal(
    await code(Model.register(ws, { name: 'bad name', path: join(dir, 'model') })),
    'INVALID_NAME 400',
  );
  assert.equal(
    await code(Model.register(ws, { name: 'iris', path: join(dir, 'model'), tags: { '': 'x' } })),
    'INVALID_TAG 400',
  );
  assert.equal(await code(ws.client.getService('ghost')), 'SERVICE_NOT_FOUND 404');
  assert.deepEqual(
    (await Model.list(ws)).map((x) => x.id),
    ['iris:2'],
  );
}
