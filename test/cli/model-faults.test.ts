import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ModelVersion } from '../../src/registry/model-version.js';
import { BERTH_BIN, runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/temp-dir.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('when several processes register the same name at once then they get distinct consecutive versions', async (t) => {
  const dir = tempDir(t);
  const ws = join(dir, 'ws');
  writeFileSync(join(dir, 'model.onnx'), 'weights');
  const register = () =>
    runCli(['--workspace', ws, 'model', 'register', '-n', 'race', '-p', join(dir, 'model.onnx'), '--json'], {
      timeoutMs: 120_000,
    });
  // First round on a fresh workspace (every process also races to create and migrate it), then again.
  for (const expected of [
    [1, 2, 3, 4, 5, 6],
    [7, 8, 9, 10, 11, 12],
  ]) {
    const results = await Promise.all(expected.map(register));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const versions = results.map((r) => r.json<ModelVersion>().version).sort((a, b) => a - b);
    assert.deepEqual(versions, expected);
  }
  const listed = (await runCli(['--workspace', ws, 'model', 'list', '-n', 'race', '--json'])).json<
    ModelVersion[]
  >();
  assert.equal(listed.length, 12);
});

test('when a registration is killed mid-copy then no version is visible, the next one works and leftovers are cleaned', async (t) => {
  const dir = tempDir(t);
  const ws = join(dir, 'ws');
  const tmp = join(ws, 'tmp');
  const big = join(dir, 'big.bin');
  const fd = openSync(big, 'w');
  ftruncateSync(fd, 200 * 1000 * 1000); // 200 MB, sparse: quick to make, still 200 MB to copy
  closeSync(fd);

  const child = spawn(
    process.execPath,
    [BERTH_BIN, '--workspace', ws, 'model', 'register', '-n', 'big', '-p', big],
    {
      stdio: 'ignore',
    },
  );
  t.after(() => child.kill('SIGKILL'));
  const closed = once(child, 'close');
  const deadline = Date.now() + 60_000;
  let leftover: string | undefined;
  while (!leftover) {
    assert.equal(child.exitCode, null, 'the registration finished before it could be killed mid-copy');
    assert.ok(Date.now() < deadline, 'no temp file appeared');
    try {
      leftover = readdirSync(tmp).find((n) => statSync(join(tmp, n)).size > 0);
    } catch {
      // tmp/ not created yet
    }
    if (!leftover) await sleep(1);
  }
  child.kill('SIGKILL');
  const [code, signal] = await closed;
  assert.equal(signal, 'SIGKILL', `exit code ${code}`);
  assert.ok(existsSync(join(tmp, leftover)), 'the killed copy left its temp file');

  const listed = await runCli(['--workspace', ws, 'model', 'list', '--json']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(listed.json(), [], 'no visible version');
  const blobs = existsSync(join(ws, 'artifacts')) ? readdirSync(join(ws, 'artifacts')) : [];
  assert.deepEqual(blobs, [], 'no artifact was stored');

  writeFileSync(join(dir, 'small.onnx'), 'small');
  const next = await runCli([
    '--workspace',
    ws,
    'model',
    'register',
    '-n',
    'big',
    '-p',
    join(dir, 'small.onnx'),
    '--json',
  ]);
  assert.equal(next.code, 0, next.stderr);
  assert.equal(next.json<ModelVersion>().id, 'big:1');
  assert.deepEqual(readdirSync(tmp), [], 'leftovers of the killed registration are gone');
});

test('when stored bytes changed on disk then download fails with ARTIFACT_CORRUPTED naming the file (exit 6)', async (t) => {
  const dir = tempDir(t);
  const ws = join(dir, 'ws');
  mkdirSync(join(dir, 'model', 'vocab'), { recursive: true });
  writeFileSync(join(dir, 'model', 'model.onnx'), 'weights');
  writeFileSync(join(dir, 'model', 'vocab', 'words.txt'), 'alpha\nbeta\n');
  const reg = await runCli([
    '--workspace',
    ws,
    'model',
    'register',
    '-n',
    'nlp',
    '-p',
    join(dir, 'model'),
    '--json',
  ]);
  assert.equal(reg.code, 0, reg.stderr);
  const words = reg.json<ModelVersion>().files.find((f) => f.path === 'vocab/words.txt')!;
  const blob = join(ws, 'artifacts', words.sha256.slice(0, 2), words.sha256);
  chmodSync(blob, 0o644);
  writeFileSync(blob, 'alpha\ngamma\n');

  const out = join(dir, 'out');
  const r = await runCli(['--workspace', ws, 'model', 'download', 'nlp:1', '-o', out]);
  assert.equal(r.code, 6, r.stderr);
  assert.match(r.stderr, /Code: {2}ARTIFACT_CORRUPTED/);
  assert.match(r.stderr, /"vocab\/words\.txt"/);
  assert.equal(existsSync(out), false, 'nothing downloaded');
  const json = await runCli(['--workspace', ws, '--json', 'model', 'download', 'nlp', '-o', out]);
  assert.equal(json.code, 6);
  assert.equal(JSON.parse(json.stderr).error.code, 'ARTIFACT_CORRUPTED');
  assert.equal(JSON.parse(json.stderr).error.details.path, 'vocab/words.txt');
});
