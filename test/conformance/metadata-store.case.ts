import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import type { MetadataStore } from '../../src/store/metadata-store.js';
import type { ModelFileRecord, NewModelVersion } from '../../src/store/model-version-record.js';

export interface MetadataStoreSuiteOptions {
  /** A fresh, empty store; close it in `t.after`. */
  open(t: TestContext): MetadataStore | Promise<MetadataStore>;
}

const sha = (c: string) => c.repeat(64).slice(0, 64);

function draft(name: string, over: Partial<NewModelVersion> = {}): NewModelVersion {
  const files: ModelFileRecord[] = over.files ?? [{ path: 'model.onnx', sha256: sha('a'), size: 10 }];
  return {
    name,
    sha256: files.length === 1 ? files[0].sha256 : sha('f'),
    size: files.reduce((s, f) => s + f.size, 0),
    files,
    tags: {},
    properties: {},
    description: null,
    createdAt: new Date().toISOString(),
    ...over,
  };
}

/** The behaviour every MetadataStore must show (SQLite today, PostgreSQL tomorrow). */
export function runMetadataStoreSuite({ open }: MetadataStoreSuiteOptions): void {
  describe('metadata store conformance', () => {
    test('when a version of a new name is created then it is version 1 and reads back whole', async (t) => {
      const store = await open(t);
      const files = [
        { path: 'b/weights.bin', sha256: sha('b'), size: 5 },
        { path: 'a.json', sha256: sha('c'), size: 7 },
      ];
      const created = store.createModelVersion(
        draft('iris', {
          files,
          tags: { stage: 'dev' },
          properties: { framework: 'onnx' },
          description: 'first',
        }),
      );
      assert.equal(created.version, 1);
      assert.equal(created.fileCount, 2);
      assert.equal(created.size, 12);
      assert.deepEqual(
        created.files.map((f) => f.path),
        ['a.json', 'b/weights.bin'],
        'files sorted by path',
      );
      assert.deepEqual(created.tags, { stage: 'dev' });
      assert.deepEqual(created.properties, { framework: 'onnx' });
      assert.equal(created.description, 'first');
      assert.deepEqual(created.aliases, []);
      assert.deepEqual(store.getModelVersion('iris', 1), created);
    });

    test('when versions are created then numbers count up per name independently', async (t) => {
      const store = await open(t);
      assert.equal(store.createModelVersion(draft('a')).version, 1);
      assert.equal(store.createModelVersion(draft('a')).version, 2);
      assert.equal(store.createModelVersion(draft('b')).version, 1);
      assert.equal(store.createModelVersion(draft('a')).version, 3);
      assert.deepEqual(store.listVersionNumbers('a'), [1, 2, 3]);
      assert.equal(store.getLatestModelVersion('a')?.version, 3);
      assert.equal(store.getLatestModelVersion('nope'), undefined);
      assert.equal(store.getModelVersion('a', 9), undefined);
    });

    test('when beforeCommit throws then nothing is written and the number is not consumed', async (t) => {
      const store = await open(t);
      let seen = 0;
      assert.throws(
        () =>
          store.createModelVersion(draft('x', { tags: { k: 'v' } }), (v) => {
            seen = v;
            throw new Error('abort');
          }),
        /abort/,
      );
      assert.equal(seen, 1);
      assert.deepEqual(store.listModelVersions(), []);
      assert.equal(store.createModelVersion(draft('x')).version, 1);
    });

    test('when the latest version is deleted then its number is never reused', async (t) => {
      const store = await open(t);
      store.createModelVersion(draft('m'));
      store.createModelVersion(draft('m'));
      assert.equal(store.deleteModelVersion('m', 2)?.version, 2);
      assert.equal(store.getModelVersion('m', 2), undefined);
      assert.equal(store.createModelVersion(draft('m')).version, 3);
      assert.equal(store.deleteModelVersion('m', 2), undefined, 'deleting twice finds nothing');
    });

    test('when a version is deleted then only files no other version uses are reported orphaned', async (t) => {
      const store = await open(t);
      const shared = { path: 'shared.bin', sha256: sha('1'), size: 1 };
      const own = { path: 'own.bin', sha256: sha('2'), size: 1 };
      store.createModelVersion(draft('m', { files: [shared, own] }));
      store.createModelVersion(draft('n', { files: [shared] }));
      let orphans: string[] = [];
      store.deleteModelVersion('m', 1, (o) => {
        orphans = o;
      });
      assert.deepEqual(orphans, [sha('2')]);
      assert.equal(store.isArtifactReferenced(sha('1')), true);
      assert.equal(store.isArtifactReferenced(sha('2')), false);
    });

    test('when beforeCommit of a delete throws then the version stays', async (t) => {
      const store = await open(t);
      store.createModelVersion(draft('m', { tags: { a: '1' } }));
      store.setModelAlias('m', 'prod', 1);
      assert.throws(
        () =>
          store.deleteModelVersion('m', 1, () => {
            throw new Error('no');
          }),
        /no/,
      );
      const kept = store.getModelVersion('m', 1);
      assert.deepEqual(kept?.tags, { a: '1' });
      assert.deepEqual(kept?.aliases, ['prod']);
    });

    test('when an alias is set and moved then it resolves to the latest target only', async (t) => {
      const store = await open(t);
      store.createModelVersion(draft('m'));
      store.createModelVersion(draft('m'));
      assert.deepEqual(store.setModelAlias('m', 'production', 1)?.aliases, ['production']);
      store.setModelAlias('m', 'canary', 1);
      assert.equal(store.getModelVersionByAlias('m', 'production')?.version, 1);
      assert.deepEqual(store.getModelVersion('m', 1)?.aliases, ['canary', 'production']);
      store.setModelAlias('m', 'production', 2);
      assert.equal(store.getModelVersionByAlias('m', 'production')?.version, 2);
      assert.deepEqual(store.getModelVersion('m', 1)?.aliases, ['canary']);
      assert.equal(store.getModelVersionByAlias('m', 'nope'), undefined);
      assert.equal(store.setModelAlias('m', 'x', 9), undefined);
    });

    test('when a version with aliases is deleted then its aliases go with it', async (t) => {
      const store = await open(t);
      store.createModelVersion(draft('m'));
      store.setModelAlias('m', 'production', 1);
      store.deleteModelVersion('m', 1);
      assert.equal(store.getModelVersionByAlias('m', 'production'), undefined);
    });

    test('when tags are added and removed then values are replaced and keys dropped', async (t) => {
      const store = await open(t);
      store.createModelVersion(draft('m', { tags: { a: '1', b: '2' } }));
      const updated = store.updateModelVersionTags('m', 1, {
        add: { b: '3', c: '' },
        remove: ['a', 'absent'],
      });
      assert.deepEqual(updated?.tags, { b: '3', c: '' });
      assert.equal(store.updateModelVersionTags('m', 2, { add: {}, remove: [] }), undefined);
    });

    test('when keys look like object internals then they round-trip as plain data', async (t) => {
      const store = await open(t);
      const tags = JSON.parse('{"__proto__": "x", "constructor": "y"}') as Record<string, string>;
      const created = store.createModelVersion(draft('m', { tags }));
      assert.equal(Object.getPrototypeOf(created.tags), Object.prototype);
      assert.deepEqual(Object.keys(created.tags).sort(), ['__proto__', 'constructor']);
      assert.equal(store.listModelVersions({ tags: { __proto__: 'x' } as Record<string, string> }).length, 1);
    });

    test('when listing with filters then name, tag value, tag key and latest combine', async (t) => {
      const store = await open(t);
      store.createModelVersion(draft('a', { tags: { stage: 'dev' } }));
      store.createModelVersion(draft('a', { tags: { stage: 'prod', team: 'x' } }));
      store.createModelVersion(draft('a', { tags: { stage: 'dev' } }));
      store.createModelVersion(draft('b', { tags: { stage: 'dev', team: 'y' } }));
      const ids = (f: Parameters<MetadataStore['listModelVersions']>[0]) =>
        store.listModelVersions(f).map((r) => `${r.name}:${r.version}`);
      assert.deepEqual(ids({}), ['a:3', 'a:2', 'a:1', 'b:1']);
      assert.deepEqual(ids({ name: 'a' }), ['a:3', 'a:2', 'a:1']);
      assert.deepEqual(ids({ tags: { stage: 'dev' } }), ['a:3', 'a:1', 'b:1']);
      assert.deepEqual(ids({ tags: { team: true } }), ['a:2', 'b:1']);
      assert.deepEqual(ids({ tags: { stage: 'dev', team: true } }), ['b:1']);
      assert.deepEqual(ids({ latest: true }), ['a:3', 'b:1']);
      assert.deepEqual(ids({ latest: true, tags: { stage: 'prod' } }), ['a:2']);
      assert.deepEqual(ids({ name: 'zzz' }), []);
    });
  });
}
