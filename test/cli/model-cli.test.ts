import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
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
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import type { ModelVersion } from '../../src/registry/model-version.js';
import { openSqliteDatabase } from '../../src/store/sqlite/open-sqlite-database.js';
import { SqliteMetadataStore } from '../../src/store/sqlite/sqlite-metadata-store.js';
import { BERTH_BIN, type CliResult, runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/temp-dir.js';

function assertFailed(r: CliResult, code: string, exit: number): { code: string; message: string } {
  assert.equal(r.code, exit, `exit code (stderr: ${r.stderr})`);
  assert.equal(r.stdout, '', 'nothing on stdout');
  // The last line: commander prints its own usage text before Berth's JSON error.
  const body = JSON.parse(r.stderr.trimEnd().split('\n').at(-1) ?? '') as {
    error: { code: string; message: string };
  };
  assert.equal(body.error.code, code, r.stderr);
  return body.error;
}

function assertOk(r: CliResult): CliResult {
  assert.equal(r.code, 0, `exit code (stderr: ${r.stderr})`);
  return r;
}

/** Every path under the workspace except the database files (compared through `model list`). */
function snapshot(ws: string): string[] {
  if (!existsSync(ws)) return [];
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.name.startsWith('berth.db')) continue;
      out.push(relative(ws, p) + (e.isDirectory() ? '/' : ''));
      if (e.isDirectory()) walk(p);
    }
  };
  walk(ws);
  return out.sort();
}

/** Every model version of the workspace, read in this process (cheaper than a CLI call). */
function readModels(ws: string): unknown[] {
  const store = new SqliteMetadataStore(openSqliteDatabase(join(ws, 'berth.db')));
  try {
    return store.listModelVersions();
  } finally {
    store.close();
  }
}

describe('berth model', () => {
  const root = tempDir({ after: (fn) => process.on('exit', fn) }, 'berth-model-cli-');
  const ws = join(root, 'ws');
  const model = join(root, 'iris');
  mkdirSync(join(model, 'meta'), { recursive: true });
  writeFileSync(join(model, 'model.onnx'), 'onnx weights');
  writeFileSync(join(model, 'meta', 'labels.txt'), 'setosa\n');
  const berth = (...args: string[]) => runCli(['--workspace', ws, ...args]);

  test('when a folder is registered with tags, properties and a description then --json prints the model', async () => {
    const r = assertOk(
      await berth(
        'model',
        'register',
        '-n',
        'iris',
        '-p',
        model,
        '--tag',
        'stage=dev',
        '--tag',
        'team=ml',
        '--property',
        'accuracy=0.97',
        '-d',
        'Iris classifier',
        '--json',
      ),
    );
    const m = r.json<ModelVersion>();
    assert.equal(m.id, 'iris:1');
    assert.equal(m.name, 'iris');
    assert.equal(m.version, 1);
    assert.match(m.sha256, /^[0-9a-f]{64}$/);
    assert.equal(m.size, 12 + 7);
    assert.equal(m.fileCount, 2);
    assert.deepEqual(
      m.files.map((f) => f.path),
      ['meta/labels.txt', 'model.onnx'],
    );
    assert.deepEqual(m.tags, { stage: 'dev', team: 'ml' });
    assert.deepEqual(m.properties, { accuracy: '0.97' });
    assert.equal(m.description, 'Iris classifier');
    assert.deepEqual(m.aliases, []);
    assert.ok(Date.parse(m.createdAt) > 0);
  });

  test('when a single file is registered then the human answer names NAME:VERSION, sha256, size, files and time', async () => {
    const r = assertOk(await berth('model', 'register', '-n', 'iris', '-p', join(model, 'model.onnx')));
    assert.match(r.stdout, /Registered iris:2/);
    assert.match(r.stdout, /sha256:\s+[0-9a-f]{64}/);
    assert.match(r.stdout, /size:\s+12 B \(12 bytes\)/);
    assert.match(r.stdout, /files:\s+1/);
    assert.match(r.stdout, /createdAt:\s+\d{4}-\d\d-\d\dT/);
  });

  test('when models are listed then humans get an aligned table and --json an array', async () => {
    assertOk(
      await berth('model', 'register', '-n', 'other', '-p', join(model, 'model.onnx'), '--tag', 'stage=prod'),
    );
    const table = assertOk(await berth('model', 'list'))
      .stdout.trimEnd()
      .split('\n');
    assert.match(table[0], /^ID\s+SIZE\s+FILES\s+ALIASES\s+TAGS\s+CREATED$/);
    assert.equal(table.length, 4);
    const col = table[0].indexOf('SIZE');
    for (const line of table.slice(1)) assert.equal(line[col - 1], ' ', `aligned: ${line}`);
    assert.deepEqual(
      table.slice(1).map((l) => l.split(/\s+/)[0]),
      ['iris:2', 'iris:1', 'other:1'],
    );
    const ids = async (...args: string[]) =>
      assertOk(await berth('model', 'list', ...args, '--json'))
        .json<ModelVersion[]>()
        .map((m) => m.id);
    assert.deepEqual(await ids('-n', 'iris'), ['iris:2', 'iris:1']);
    assert.deepEqual(await ids('--tag', 'stage=dev'), ['iris:1']);
    assert.deepEqual(await ids('--tag', 'stage'), ['iris:1', 'other:1']);
    assert.deepEqual(await ids('--latest'), ['iris:2', 'other:1']);
    assert.deepEqual(await ids('-n', 'nothing'), []);
  });

  test('when an alias is set and moved then NAME@ALIAS shows the version it points at', async () => {
    const set = assertOk(await berth('model', 'alias', 'iris:1', 'production'));
    assert.match(set.stdout, /iris@production -> iris:1/);
    assert.equal(
      assertOk(await berth('model', 'show', 'iris@production', '--json')).json<ModelVersion>().version,
      1,
    );
    const moved = assertOk(
      await berth('model', 'alias', 'iris:2', 'production', '--json'),
    ).json<ModelVersion>();
    assert.deepEqual(moved.aliases, ['production']);
    const shown = assertOk(await berth('model', 'show', 'iris@production')).stdout;
    assert.match(shown, /^id:\s+iris:2$/m);
    assert.match(shown, /^aliases:\s+production$/m);
    assert.match(shown, /^PATH\s+SIZE\s+SHA256$/m);
    assert.deepEqual(
      assertOk(await berth('model', 'show', 'iris:1', '--json')).json<ModelVersion>().aliases,
      [],
    );
    assert.equal(assertOk(await berth('model', 'show', 'iris', '--json')).json<ModelVersion>().id, 'iris:2');
  });

  test('when tags are added and removed then show reflects them', async () => {
    const r = assertOk(
      await berth(
        'model',
        'tag',
        'iris:1',
        '--add',
        'stage=prod',
        '--add',
        'owner=me',
        '--remove',
        'team',
        '--json',
      ),
    );
    assert.deepEqual(r.json<ModelVersion>().tags, { owner: 'me', stage: 'prod' });
    const human = assertOk(await berth('model', 'tag', 'iris:1', '--remove', 'owner')).stdout;
    assert.match(human, /tags:\s+stage=prod/);
  });

  test('when a version is downloaded then DIR receives its files with the layout kept', async () => {
    const out = join(root, 'download');
    const r = assertOk(await berth('model', 'download', 'iris:1', '-o', out));
    assert.match(r.stdout, /Downloaded iris:1 \(2 files/);
    assert.equal(readFileSync(join(out, 'meta', 'labels.txt'), 'utf8'), 'setosa\n');
    assert.equal(readFileSync(join(out, 'model.onnx'), 'utf8'), 'onnx weights');
  });

  test('when a version is deleted then it is gone and its number is not reused', async () => {
    assert.equal(
      assertOk(await berth('model', 'delete', 'other:1', '--json')).json<ModelVersion>().id,
      'other:1',
    );
    assertFailed(await berth('model', 'show', 'other:1', '--json'), 'MODEL_NOT_FOUND', 3);
    const again = assertOk(await berth('model', 'register', '-n', 'other', '-p', model, '--json'));
    assert.equal(again.json<ModelVersion>().version, 2);
    assert.match(assertOk(await berth('model', 'delete', 'other')).stdout, /Deleted other:2/);
  });

  describe('bad input and faults: a stable code and nothing written', () => {
    const fresh = join(root, 'never-created');
    const expectNothingWritten = async (args: string[], code: string, exit: number) => {
      const before = snapshot(ws);
      const listed = JSON.stringify(readModels(ws));
      const error = assertFailed(await berth(...args), code, exit);
      assert.deepEqual(snapshot(ws), before, 'workspace files unchanged');
      assert.equal(JSON.stringify(readModels(ws)), listed, 'no version added or changed');
      assert.deepEqual(readdirSync(join(ws, 'tmp')), [], 'no temp file left');
      return error;
    };

    test('when the path does not exist then PATH_NOT_FOUND (exit 2)', async () => {
      const e = await expectNothingWritten(
        ['model', 'register', '-n', 'iris', '-p', join(root, 'missing.onnx'), '--json'],
        'PATH_NOT_FOUND',
        2,
      );
      assert.match(e.message, /missing\.onnx/);
      const r = await runCli([
        '--workspace',
        fresh,
        'model',
        'register',
        '-n',
        'iris',
        '-p',
        join(root, 'missing'),
      ]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^Error: .*missing.*\nCode: {2}PATH_NOT_FOUND\nTry: {3}\S/);
      assert.equal(existsSync(fresh), false, 'a bad registration does not even create the workspace');
    });

    test('when the path cannot be read then PATH_NOT_FOUND (exit 2)', async () => {
      const secret = join(root, 'secret');
      mkdirSync(secret, { recursive: true });
      writeFileSync(join(secret, 'model.onnx'), 'x');
      chmodSync(join(secret, 'model.onnx'), 0o000);
      if (process.getuid?.() !== 0) {
        await expectNothingWritten(
          ['model', 'register', '-n', 'iris', '-p', secret, '--json'],
          'PATH_NOT_FOUND',
          2,
        );
        return;
      }
      // root reads anything: run the CLI as "nobody" against a workspace it may write.
      chmodSync(root, 0o755);
      const shared = join(root, 'shared');
      mkdirSync(shared, { mode: 0o777 });
      chmodSync(shared, 0o777);
      const r = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [
            BERTH_BIN,
            '--workspace',
            join(shared, 'ws'),
            '--json',
            'model',
            'register',
            '-n',
            'iris',
            '-p',
            secret,
          ],
          { uid: 65534, gid: 65534, env: { PATH: process.env.PATH }, stdio: ['ignore', 'ignore', 'pipe'] },
        );
        let stderr = '';
        child.stderr.on('data', (d) => (stderr += d));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stderr }));
      });
      assert.equal(r.code, 2, r.stderr);
      assert.equal(JSON.parse(r.stderr).error.code, 'PATH_NOT_FOUND');
      assert.match(JSON.parse(r.stderr).error.message, /cannot be read/);
      assert.equal(existsSync(join(shared, 'ws')), false);
    });

    test('when the folder is empty then EMPTY_MODEL (exit 2)', async () => {
      mkdirSync(join(root, 'empty', 'nested'), { recursive: true });
      await expectNothingWritten(
        ['model', 'register', '-n', 'iris', '-p', join(root, 'empty'), '--json'],
        'EMPTY_MODEL',
        2,
      );
    });

    test('when a symlink points outside the folder then UNSAFE_SYMLINK (exit 2)', async () => {
      const leaky = join(root, 'leaky');
      mkdirSync(leaky);
      writeFileSync(join(leaky, 'model.onnx'), 'x');
      writeFileSync(join(root, 'outside.txt'), 'private');
      symlinkSync('../outside.txt', join(leaky, 'data.txt'));
      const e = await expectNothingWritten(
        ['model', 'register', '-n', 'iris', '-p', leaky, '--json'],
        'UNSAFE_SYMLINK',
        2,
      );
      assert.match(e.message, /data\.txt/);
    });

    test('when the name is outside [A-Za-z0-9][A-Za-z0-9_.-]{0,254} then INVALID_NAME (exit 2)', async () => {
      for (const name of ['bad name', '-dash', '.dot', 'a/b', 'x'.repeat(256), 'é']) {
        await expectNothingWritten(
          ['model', 'register', '-n', name, '-p', model, '--json'],
          'INVALID_NAME',
          2,
        );
      }
      assertOk(await berth('model', 'register', '-n', `A${'x'.repeat(254)}`, '-p', model));
      assertOk(await berth('model', 'delete', `A${'x'.repeat(254)}:1`));
    });

    test('when a version or alias does not exist then MODEL_NOT_FOUND (exit 3)', async () => {
      for (const args of [
        ['show', 'iris:99'],
        ['show', 'iris@canary'],
        ['show', 'nothing'],
        ['download', 'iris:99', '-o', join(root, 'not-made')],
        ['delete', 'iris:99'],
        ['tag', 'iris:99', '--add', 'a=b'],
        ['alias', 'iris:99', 'production'],
      ]) {
        await expectNothingWritten(['model', ...args, '--json'], 'MODEL_NOT_FOUND', 3);
      }
      assert.equal(existsSync(join(root, 'not-made')), false);
    });

    test('when a --tag or --property is malformed then INVALID_TAG (exit 2)', async () => {
      for (const args of [
        ['register', '-n', 'iris', '-p', model, '--tag', 'novalue'],
        ['register', '-n', 'iris', '-p', model, '--tag', '=value'],
        ['register', '-n', 'iris', '-p', model, '--property', 'novalue'],
        ['list', '--tag', '=x'],
        ['tag', 'iris:1', '--add', 'novalue'],
        ['tag', 'iris:1', '--remove', 'a=b'],
      ]) {
        await expectNothingWritten(['model', ...args, '--json'], 'INVALID_TAG', 2);
      }
    });

    test('when a reference is malformed then INVALID_MODEL_REF (exit 2)', async () => {
      for (const ref of ['iris:0', 'iris:x', 'iris@', ':1', 'a b']) {
        await expectNothingWritten(['model', 'show', ref, '--json'], 'INVALID_MODEL_REF', 2);
      }
    });

    test('when a required flag is missing then INVALID_ARGUMENT (exit 2)', async () => {
      await expectNothingWritten(['model', 'register', '-n', 'iris', '--json'], 'INVALID_ARGUMENT', 2);
      await expectNothingWritten(['model', 'tag', 'iris:1', '--json'], 'INVALID_ARGUMENT', 2);
    });
  });

  test('when no --workspace is given then BERTH_WORKSPACE, else ./.berth, is used', async () => {
    const cwd = join(root, 'cwd');
    mkdirSync(cwd);
    assertOk(await runCli(['model', 'register', '-n', 'iris', '-p', model], { cwd }));
    assert.ok(statSync(join(cwd, '.berth', 'berth.db')).isFile());
    const env = { BERTH_WORKSPACE: join(root, 'from-env') };
    assertOk(await runCli(['model', 'register', '-n', 'envy', '-p', model], { cwd, env }));
    const listed = assertOk(await runCli(['model', 'list', '--json'], { cwd, env })).json<ModelVersion[]>();
    assert.deepEqual(
      listed.map((m) => m.id),
      ['envy:1'],
    );
  });
});
