import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { BerthError } from '../../src/core/errors.js';
import type { ArtifactStore } from '../../src/store/artifact-store.js';

export interface ArtifactStoreUnderTest {
  store: ArtifactStore;
  /** Changes the stored bytes of a blob behind the store's back (what a disk fault or a person does). */
  corrupt(sha256: string): void;
}

export interface ArtifactStoreSuiteOptions {
  /** A fresh, empty store; clean it up in `t.after`. */
  open(t: TestContext): ArtifactStoreUnderTest | Promise<ArtifactStoreUnderTest>;
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

function scratch(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-artifact-case-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function assertCode(err: unknown, code: string): true {
  assert.ok(err instanceof BerthError, `expected a BerthError, got ${err}`);
  assert.equal(err.code, code);
  return true;
}

/** The behaviour every ArtifactStore must show (a folder today, object storage tomorrow). */
export function runArtifactStoreSuite({ open }: ArtifactStoreSuiteOptions): void {
  describe('artifact store conformance', () => {
    test('when a file is put then its sha256 and size are returned and it can be exported identically', async (t) => {
      const { store } = await open(t);
      const dir = scratch(t);
      // Not a multiple of any chunk size, and more than one chunk.
      const bytes = Buffer.alloc(9 * 1024 * 1024 + 123);
      for (let i = 0; i < bytes.length; i += 4096) bytes[i] = i % 251;
      writeFileSync(join(dir, 'in.bin'), bytes);
      const stored = await store.put(join(dir, 'in.bin'));
      assert.deepEqual(stored, { sha256: sha256(bytes), size: bytes.length, created: true });
      assert.equal(store.has(stored.sha256), true);
      await store.exportTo(stored.sha256, join(dir, 'copy.bin'));
      await store.exportTo(stored.sha256, join(dir, 'link.bin'), { link: true });
      assert.ok(readFileSync(join(dir, 'copy.bin')).equals(bytes));
      assert.ok(readFileSync(join(dir, 'link.bin')).equals(bytes));
      await store.verify(stored.sha256);
    });

    test('when identical bytes are put twice then they are stored once', async (t) => {
      const { store } = await open(t);
      const dir = scratch(t);
      writeFileSync(join(dir, 'a'), 'same bytes');
      writeFileSync(join(dir, 'b'), 'same bytes');
      const first = await store.put(join(dir, 'a'));
      const second = await store.put(join(dir, 'b'));
      assert.equal(first.created, true);
      assert.equal(second.created, false);
      assert.equal(first.sha256, second.sha256);
    });

    test('when an empty file is put then it is stored like any other', async (t) => {
      const { store } = await open(t);
      const dir = scratch(t);
      writeFileSync(join(dir, 'empty'), '');
      const stored = await store.put(join(dir, 'empty'));
      assert.equal(stored.sha256, sha256(''));
      assert.equal(stored.size, 0);
      await store.exportTo(stored.sha256, join(dir, 'out'));
      assert.equal(readFileSync(join(dir, 'out'), 'utf8'), '');
    });

    test('when the source does not exist then put fails with PATH_NOT_FOUND', async (t) => {
      const { store } = await open(t);
      await assert.rejects(store.put(join(scratch(t), 'missing')), (e) => assertCode(e, 'PATH_NOT_FOUND'));
    });

    test('when stored bytes are altered then verify and export fail with ARTIFACT_CORRUPTED and leave nothing', async (t) => {
      const { store, corrupt } = await open(t);
      const dir = scratch(t);
      writeFileSync(join(dir, 'in'), 'original bytes');
      const { sha256: id } = await store.put(join(dir, 'in'));
      corrupt(id);
      await assert.rejects(store.verify(id), (e) => assertCode(e, 'ARTIFACT_CORRUPTED'));
      await assert.rejects(store.exportTo(id, join(dir, 'copy')), (e) => assertCode(e, 'ARTIFACT_CORRUPTED'));
      await assert.rejects(store.exportTo(id, join(dir, 'link'), { link: true }), (e) =>
        assertCode(e, 'ARTIFACT_CORRUPTED'),
      );
      assert.equal(existsSync(join(dir, 'copy')), false);
      assert.equal(existsSync(join(dir, 'link')), false);
    });

    test('when a blob is removed then it is gone and exporting it fails with ARTIFACT_CORRUPTED', async (t) => {
      const { store } = await open(t);
      const dir = scratch(t);
      writeFileSync(join(dir, 'in'), 'to remove');
      const { sha256: id } = await store.put(join(dir, 'in'));
      store.remove(id);
      store.remove(id);
      assert.equal(store.has(id), false);
      await assert.rejects(store.exportTo(id, join(dir, 'out')), (e) => assertCode(e, 'ARTIFACT_CORRUPTED'));
    });
  });
}
