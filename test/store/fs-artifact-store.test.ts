import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FsArtifactStore } from '../../src/store/fs/fs-artifact-store.js';
import { TempArea } from '../../src/store/temp-area.js';
import { runArtifactStoreSuite } from '../conformance/artifact-store.case.js';
import { tempDir } from '../helpers/temp-dir.js';

runArtifactStoreSuite({
  open(t) {
    const dir = tempDir(t);
    const store = new FsArtifactStore(join(dir, 'artifacts'), new TempArea(join(dir, 'tmp')));
    return {
      store,
      corrupt(sha256) {
        const blob = store.blobPath(sha256);
        chmodSync(blob, 0o644);
        writeFileSync(blob, 'tampered');
      },
    };
  },
});

test('when a file is put then it lands read-only at artifacts/<2 hex>/<sha256> and no temp file remains', async (t) => {
  const dir = tempDir(t);
  const store = new FsArtifactStore(join(dir, 'artifacts'), new TempArea(join(dir, 'tmp')));
  writeFileSync(join(dir, 'in'), 'hello');
  const { sha256 } = await store.put(join(dir, 'in'));
  const blob = join(dir, 'artifacts', sha256.slice(0, 2), sha256);
  assert.equal(store.blobPath(sha256), blob);
  assert.equal(statSync(blob).mode & 0o777, 0o444);
  assert.deepEqual(readdirSync(join(dir, 'tmp')), []);
});

test('when a blob is exported with link then the destination shares its inode', async (t) => {
  const dir = tempDir(t);
  const store = new FsArtifactStore(join(dir, 'artifacts'), new TempArea(join(dir, 'tmp')));
  writeFileSync(join(dir, 'in'), 'linked');
  const { sha256 } = await store.put(join(dir, 'in'));
  await store.exportTo(sha256, join(dir, 'out'), { link: true });
  assert.equal(statSync(join(dir, 'out')).ino, statSync(store.blobPath(sha256)).ino);
});

test('when temp entries belong to dead processes then cleanStale removes them and keeps live ones', (t) => {
  const dir = tempDir(t);
  const temp = new TempArea(join(dir, 'tmp'));
  mkdirSync(temp.dir, { recursive: true });
  // pid 2^22+1 is above Linux's pid_max limit, so no process has it.
  const dead = join(temp.dir, `${2 ** 22 + 1}-abc-artifact`);
  const deadFolder = join(temp.dir, `${2 ** 22 + 1}-def-iris-1`);
  const live = join(temp.dir, `${process.ppid}-abc-artifact`);
  const mine = temp.path('artifact');
  writeFileSync(dead, 'x');
  mkdirSync(join(deadFolder, 'sub'), { recursive: true });
  writeFileSync(live, 'x');
  writeFileSync(mine, 'x');
  assert.equal(temp.cleanStale().length, 2);
  assert.equal(existsSync(dead), false);
  assert.equal(existsSync(deadFolder), false);
  assert.equal(existsSync(live), true);
  assert.equal(existsSync(mine), true);
});
