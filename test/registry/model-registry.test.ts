import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { BerthError } from '../../src/core/errors.js';
import { ModelRegistry } from '../../src/registry/model-registry.js';
import { openWorkspaceStores, type WorkspaceStores } from '../../src/store/open-store.js';
import { tempDir } from '../helpers/temp-dir.js';

const sha256 = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');

function setup(t: TestContext): { registry: ModelRegistry; stores: WorkspaceStores; dir: string } {
  const dir = tempDir(t);
  const stores = openWorkspaceStores(join(dir, 'ws'));
  t.after(() => stores.close());
  return { registry: new ModelRegistry(stores), stores, dir };
}

function code(expected: string, exit: number) {
  return (e: unknown) => {
    assert.ok(e instanceof BerthError, `expected BerthError, got ${e}`);
    assert.equal(e.code, expected);
    assert.equal(e.exitCode, exit);
    return true;
  };
}

function blobCount(stores: WorkspaceStores): number {
  const root = join(stores.dir, 'artifacts');
  return readdirSync(root).reduce((n, d) => n + readdirSync(join(root, d)).length, 0);
}

function modelFolder(dir: string): string {
  const m = join(dir, 'model');
  mkdirSync(join(m, 'sub'), { recursive: true });
  writeFileSync(join(m, 'model.onnx'), 'weights');
  writeFileSync(join(m, 'sub', 'labels.txt'), 'setosa\nversicolor\n');
  writeFileSync(join(m, 'sub', 'copy.onnx'), 'weights');
  return m;
}

test('when a single file is registered then the version carries its sha256, size and name', async (t) => {
  const { registry, dir } = setup(t);
  writeFileSync(join(dir, 'iris.onnx'), 'onnx bytes');
  const m = await registry.register({ name: 'iris', path: join(dir, 'iris.onnx'), description: 'd' });
  assert.equal(m.id, 'iris:1');
  assert.equal(m.sha256, sha256('onnx bytes'));
  assert.equal(m.size, 10);
  assert.equal(m.fileCount, 1);
  assert.deepEqual(m.files, [{ path: 'iris.onnx', sha256: sha256('onnx bytes'), size: 10 }]);
  assert.equal(m.description, 'd');
  assert.ok(!Number.isNaN(Date.parse(m.createdAt)));
  assert.deepEqual(Object.keys(m), [
    'id',
    'name',
    'version',
    'sha256',
    'size',
    'fileCount',
    'files',
    'tags',
    'properties',
    'description',
    'aliases',
    'createdAt',
  ]);
});

test('when a folder is registered then its layout is kept, its sha256 covers paths and identical files are stored once', async (t) => {
  const { registry, stores, dir } = setup(t);
  const m = await registry.register({ name: 'iris', path: modelFolder(dir) });
  assert.deepEqual(
    m.files.map((f) => f.path),
    ['model.onnx', 'sub/copy.onnx', 'sub/labels.txt'],
  );
  const lines = m.files.map((f) => `${f.path}\0${f.sha256}\n`).join('');
  assert.equal(m.sha256, sha256(lines));
  assert.equal(m.size, 7 + 7 + 18);
  assert.equal(blobCount(stores), 2, 'model.onnx and sub/copy.onnx share one blob');
  await registry.register({ name: 'iris', path: join(dir, 'model') });
  assert.equal(blobCount(stores), 2, 'a second identical version adds no blob');
});

test('when a folder has a symbolic link inside it then the link is registered as the file it points to', async (t) => {
  const { registry, dir } = setup(t);
  const m = modelFolder(dir);
  symlinkSync('../model.onnx', join(m, 'sub', 'link.onnx'));
  symlinkSync('sub', join(m, 'linked-dir'));
  const v = await registry.register({ name: 'iris', path: m });
  assert.deepEqual(
    v.files.map((f) => f.path),
    [
      'linked-dir/copy.onnx',
      'linked-dir/labels.txt',
      'linked-dir/link.onnx',
      'model.onnx',
      'sub/copy.onnx',
      'sub/labels.txt',
      'sub/link.onnx',
    ],
  );
});

test('when inputs are bad then registration fails with a precise code and nothing is stored', async (t) => {
  const { registry, stores, dir } = setup(t);
  mkdirSync(join(dir, 'empty', 'nested'), { recursive: true });
  const escaping = modelFolder(join(dir, 'o'));
  symlinkSync('../../../secret.txt', join(escaping, 'sub', 'escape.txt'));
  writeFileSync(join(dir, 'secret.txt'), 'not part of the model');
  const loop = modelFolder(join(dir, 'l'));
  symlinkSync('..', join(loop, 'sub', 'up'));
  writeFileSync(join(dir, 'ok.onnx'), 'x');
  const cases: [Parameters<ModelRegistry['register']>[0], string][] = [
    [{ name: 'iris', path: join(dir, 'missing.onnx') }, 'PATH_NOT_FOUND'],
    [{ name: 'iris', path: join(dir, 'empty') }, 'EMPTY_MODEL'],
    [{ name: 'iris', path: escaping }, 'UNSAFE_SYMLINK'],
    [{ name: 'bad name', path: join(dir, 'ok.onnx') }, 'INVALID_NAME'],
    [{ name: '-x', path: join(dir, 'ok.onnx') }, 'INVALID_NAME'],
    [{ name: 'a'.repeat(256), path: join(dir, 'ok.onnx') }, 'INVALID_NAME'],
    [{ name: 'iris', path: join(dir, 'ok.onnx'), tags: { '': 'x' } }, 'INVALID_TAG'],
    [{ name: 'iris', path: join(dir, 'ok.onnx'), tags: { 'a=b': 'x' } }, 'INVALID_TAG'],
    [{ name: 'iris', path: join(dir, 'ok.onnx'), properties: { k: 3 as unknown as string } }, 'INVALID_TAG'],
  ];
  for (const [input, expected] of cases) {
    await assert.rejects(
      registry.register(input),
      code(expected, 2),
      `${JSON.stringify(input).slice(0, 80)}`,
    );
  }
  await assert.rejects(registry.register({ name: 'iris', path: loop }), code('UNSAFE_SYMLINK', 2));
  assert.deepEqual(registry.list(), []);
  assert.equal(blobCount(stores), 0);
  assert.deepEqual(readdirSync(join(stores.dir, 'tmp')), []);
});

test('when the same name is registered again then versions count up and every ref form resolves', async (t) => {
  const { registry, dir } = setup(t);
  writeFileSync(join(dir, 'a'), '1');
  await registry.register({ name: 'iris', path: join(dir, 'a') });
  await registry.register({ name: 'iris', path: join(dir, 'a') });
  await registry.register({ name: 'other', path: join(dir, 'a') });
  assert.equal(registry.get('iris').id, 'iris:2');
  assert.equal(registry.get('iris:1').id, 'iris:1');
  assert.deepEqual(registry.setAlias('iris:1', 'production').aliases, ['production']);
  assert.equal(registry.get('iris@production').id, 'iris:1');
  registry.setAlias('iris:2', 'production');
  assert.equal(registry.get('iris@production').id, 'iris:2');
  assert.deepEqual(registry.get('iris:1').aliases, []);
  assert.throws(() => registry.get('iris:3'), code('MODEL_NOT_FOUND', 3));
  assert.throws(() => registry.get('iris@canary'), code('MODEL_NOT_FOUND', 3));
  assert.throws(() => registry.get('nope'), code('MODEL_NOT_FOUND', 3));
  assert.throws(() => registry.get('iris:0'), code('INVALID_MODEL_REF', 2));
  assert.throws(() => registry.get('iris:x'), code('INVALID_MODEL_REF', 2));
  assert.throws(() => registry.setAlias('iris:1', 'bad alias'), code('INVALID_NAME', 2));
});

test('when tags change then list filters by value, by key and by latest', async (t) => {
  const { registry, dir } = setup(t);
  writeFileSync(join(dir, 'a'), '1');
  await registry.register({
    name: 'iris',
    path: join(dir, 'a'),
    tags: { stage: 'dev' },
    properties: { fw: 'onnx' },
  });
  await registry.register({ name: 'iris', path: join(dir, 'a'), tags: { stage: 'dev' } });
  const tagged = registry.tag('iris:1', { add: { stage: 'prod', owner: 'me' }, remove: ['absent'] });
  assert.deepEqual(tagged.tags, { owner: 'me', stage: 'prod' });
  assert.deepEqual(tagged.properties, { fw: 'onnx' });
  assert.deepEqual(registry.tag('iris:1', { remove: ['owner'] }).tags, { stage: 'prod' });
  assert.deepEqual(
    registry.list({ tags: { stage: 'prod' } }).map((m) => m.id),
    ['iris:1'],
  );
  assert.deepEqual(
    registry.list({ tags: { stage: true } }).map((m) => m.id),
    ['iris:2', 'iris:1'],
  );
  assert.deepEqual(
    registry.list({ latest: true }).map((m) => m.id),
    ['iris:2'],
  );
  assert.throws(() => registry.tag('iris:1', { add: { '': 'x' } }), code('INVALID_TAG', 2));
  assert.throws(() => registry.list({ name: 'bad name' }), code('INVALID_NAME', 2));
});

test('when a version is materialized then it is built once from hard links and reused', async (t) => {
  const { registry, stores, dir } = setup(t);
  const m = await registry.register({ name: 'iris', path: modelFolder(dir) });
  const folder = await registry.materialize('iris:1');
  assert.equal(folder, join(stores.dir, 'models', 'iris', '1'));
  assert.equal(readFileSync(join(folder, 'sub', 'labels.txt'), 'utf8'), 'setosa\nversicolor\n');
  const blob = join(stores.dir, 'artifacts', m.files[0].sha256.slice(0, 2), m.files[0].sha256);
  assert.equal(statSync(join(folder, 'model.onnx')).ino, statSync(blob).ino);
  const before = statSync(folder).mtimeMs;
  assert.equal(await registry.materialize('iris'), folder);
  assert.equal(statSync(folder).mtimeMs, before);
  assert.deepEqual(readdirSync(join(stores.dir, 'tmp')), []);
});

test('when a stored file was altered then materialize and download fail naming it and leave nothing', async (t) => {
  const { registry, stores, dir } = setup(t);
  const m = await registry.register({ name: 'iris', path: modelFolder(dir) });
  const labels = m.files.find((f) => f.path === 'sub/labels.txt')!;
  const blob = join(stores.dir, 'artifacts', labels.sha256.slice(0, 2), labels.sha256);
  chmodSync(blob, 0o644);
  writeFileSync(blob, 'setosa\nvirginica\n');
  const corrupted = (e: unknown) => {
    code('ARTIFACT_CORRUPTED', 6)(e);
    assert.match((e as Error).message, /sub\/labels\.txt/);
    assert.match((e as Error).message, /iris:1/);
    return true;
  };
  await assert.rejects(registry.materialize('iris:1'), corrupted);
  assert.equal(existsSync(join(stores.dir, 'models', 'iris', '1')), false);
  const out = join(dir, 'out');
  await assert.rejects(registry.download('iris:1', out), corrupted);
  assert.equal(existsSync(out), false);
  mkdirSync(join(dir, 'existing'));
  writeFileSync(join(dir, 'existing', 'mine.txt'), 'keep');
  await assert.rejects(registry.download('iris:1', join(dir, 'existing')), corrupted);
  assert.deepEqual(readdirSync(join(dir, 'existing')), ['mine.txt']);
  assert.deepEqual(readdirSync(join(stores.dir, 'tmp')), []);
});

test('when a version is downloaded then DIR holds its files, writable, with the relative layout', async (t) => {
  const { registry, dir } = setup(t);
  await registry.register({ name: 'iris', path: modelFolder(dir) });
  const out = join(dir, 'out');
  const m = await registry.download('iris', out);
  assert.equal(m.id, 'iris:1');
  assert.deepEqual(readdirSync(out).sort(), ['model.onnx', 'sub']);
  assert.equal(readFileSync(join(out, 'sub', 'copy.onnx'), 'utf8'), 'weights');
  assert.equal(statSync(join(out, 'model.onnx')).mode & 0o200, 0o200);
});

test('when a service uses a version then delete is refused naming it, and allowed once unused', async (t) => {
  const { registry, stores, dir } = setup(t);
  writeFileSync(join(dir, 'shared'), 'shared');
  writeFileSync(join(dir, 'own'), 'own');
  await registry.register({ name: 'a', path: join(dir, 'shared') });
  await registry.register({ name: 'a', path: join(dir, 'own') });
  await registry.register({ name: 'b', path: join(dir, 'shared') });
  await registry.materialize('a:2');
  let users = ['svc-1', 'svc-2'];
  registry.setUsageGuard((name, version) => (name === 'a' && version === 2 ? users : []));
  assert.throws(
    () => registry.delete('a:2'),
    (e) => code('MODEL_IN_USE', 4)(e) && /svc-1, svc-2/.test((e as Error).message),
  );
  assert.equal(registry.get('a:2').id, 'a:2');
  users = [];
  assert.equal(registry.delete('a:2').id, 'a:2');
  assert.equal(existsSync(join(stores.dir, 'models', 'a')), false, 'materialized copy removed');
  assert.equal(blobCount(stores), 1, 'the unshared blob is gone');
  registry.delete('a:1');
  assert.equal(blobCount(stores), 1, 'b:1 still uses the shared blob');
  assert.throws(() => registry.get('a'), code('MODEL_NOT_FOUND', 3));
  assert.equal(
    (await registry.register({ name: 'a', path: join(dir, 'own') })).version,
    3,
    'numbers are not reused',
  );
});

test('when a shared blob disappears between storing and committing then registration stores it again', async (t) => {
  const { stores, dir } = setup(t);
  writeFileSync(join(dir, 'a'), 'bytes');
  let raced = false;
  const racing: WorkspaceStores = {
    ...stores,
    artifacts: {
      ...stores.artifacts,
      put: async (path) => {
        const stored = await stores.artifacts.put(path);
        // What a concurrent `delete` of the last other user of this blob does.
        if (!raced) stores.artifacts.remove(stored.sha256);
        raced = true;
        return stored;
      },
      has: (sha) => stores.artifacts.has(sha),
      exportTo: (sha, dest, o) => stores.artifacts.exportTo(sha, dest, o),
      verify: (sha) => stores.artifacts.verify(sha),
      remove: (sha) => stores.artifacts.remove(sha),
    },
  };
  const registry = new ModelRegistry(racing);
  const m = await registry.register({ name: 'a', path: join(dir, 'a') });
  assert.equal(stores.artifacts.has(m.sha256), true);
  await registry.download('a:1', join(dir, 'out'));
  assert.equal(readFileSync(join(dir, 'out', 'a'), 'utf8'), 'bytes');
});
