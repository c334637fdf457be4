import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ModelRegistry } from '../../src/registry/model-registry.js';
import { openWorkspaceStores } from '../../src/store/open-store.js';
import { buildLinearModel, writeModel } from '../fixtures/models/onnx-model-builder.js';
import { runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/temp-dir.js';
import {
  ENTRY_SCRIPTS,
  nodeService,
  postJson,
  readState,
  startServe,
  waitFor,
} from '../serving/supervisor-harness.js';

/** y = 0.5 + Σ x_i (i + 1) / 10 for x = 1..10 */
const LINEAR_ROW = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const LINEAR_Y = 39;

function errorOf(stderr: string): { code: string } {
  const m = /^Code: {2}(\S+)$/m.exec(stderr);
  return { code: m?.[1] ?? `(none in: ${stderr})` };
}

describe('berth serve', { concurrency: 1 }, () => {
  test('when --model-dir and a node entry script are given then it prints Listening and scores', async (t) => {
    const dir = tempDir(t);
    const { modelDir, ic } = nodeService(dir, 'sv-control.js', 'echo-model');
    const stateFile = join(dir, 'state.json');
    const s = await startServe(t, [
      '--model-dir',
      modelDir,
      '--ic',
      ic,
      '--port',
      '0',
      '--state-file',
      stateFile,
    ]);
    assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const r = await postJson(`${s.url}/score`, { data: [[1, 2]] });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.input, { data: [[1, 2]] });
    assert.equal((await fetch(`${s.url}/health/ready`)).status, 200);
    assert.equal((await fetch(`${s.url}/v2/models/echo-model/ready`)).status, 200);
    const state = readState(stateFile)!;
    assert.equal(state.port, s.port);
    assert.equal(state.ready, true);
    assert.equal(state.generation, 1);
    assert.equal(state.pid, s.child.pid);
    assert.equal((await s.stop('SIGINT')).code, 0);
  });

  test('when --model-dir holds an ONNX model and no --ic is given then it is served with no code', async (t) => {
    const dir = tempDir(t);
    const modelDir = join(dir, 'linear');
    writeModel(modelDir, 'model.onnx', buildLinearModel());
    const s = await startServe(t, ['--model-dir', modelDir, '--port', '0', '--name', 'regression']);
    const r = await postJson(`${s.url}/score`, { data: [LINEAR_ROW] });
    assert.equal(r.status, 200);
    assert.ok(Math.abs((r.body as unknown as number[])[0] - LINEAR_Y) < 1e-4, JSON.stringify(r.body));
    const meta = await (await fetch(`${s.url}/v2/models/regression`)).json();
    assert.equal((meta as { name: string }).name, 'regression');
    assert.equal((await s.stop()).code, 0);
  });

  test('when --model REF names a registered model then the workspace copy is served', async (t) => {
    const dir = tempDir(t);
    const workspace = join(dir, 'ws');
    const stores = openWorkspaceStores(workspace);
    try {
      const folder = join(dir, 'linear');
      writeModel(folder, 'model.onnx', buildLinearModel());
      await new ModelRegistry(stores).register({ name: 'lin', path: folder });
    } finally {
      stores.close();
    }
    const s = await startServe(t, ['--workspace', workspace, '--model', 'lin:1', '--port', '0']);
    const r = await postJson(`${s.url}/score`, { data: [LINEAR_ROW] });
    assert.equal(r.status, 200);
    assert.ok(Math.abs((r.body as unknown as number[])[0] - LINEAR_Y) < 1e-4);
    assert.equal((await fetch(`${s.url}/v2/models/lin`)).status, 200);
    assert.equal((await s.stop()).code, 0);

    const missing = await runCli(['serve', '--workspace', workspace, '--model', 'nope:1', '--port', '0']);
    assert.equal(missing.code, 3);
    assert.equal(errorOf(missing.stderr).code, 'MODEL_NOT_FOUND');
  });

  test('when the port is taken then it fails with PORT_IN_USE and exit code 4', async (t) => {
    const dir = tempDir(t);
    const { modelDir, ic } = nodeService(dir, 'sv-control.js');
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    t.after(() => blocker.close());
    const port = (blocker.address() as { port: number }).port;
    const r = await runCli(['serve', '--model-dir', modelDir, '--ic', ic, '--port', String(port)]);
    assert.equal(r.code, 4);
    assert.equal(errorOf(r.stderr).code, 'PORT_IN_USE');
    assert.match(r.stderr, new RegExp(`Port ${port} on 127\\.0\\.0\\.1 is already in use`));
    assert.match(r.stderr, /Try: {3}.*--port/);
  });

  test('when --ic has an unknown key then it fails with INVALID_CONFIG naming the key and exit code 2', async (t) => {
    const dir = tempDir(t);
    const { modelDir } = nodeService(dir, 'sv-control.js');
    const ic = join(dir, 'bad.json');
    writeFileSync(ic, JSON.stringify({ runtime: 'node', entryScript: 'x.js', entryscript: 'typo.js' }));
    const r = await runCli(['serve', '--model-dir', modelDir, '--ic', ic]);
    assert.equal(r.code, 2);
    assert.equal(errorOf(r.stderr).code, 'INVALID_CONFIG');
    assert.match(r.stderr, /unknown key "entryscript"/);

    const wrongType = join(dir, 'wrong-type.json');
    writeFileSync(wrongType, JSON.stringify({ runtime: 'tensorflow' }));
    const r2 = await runCli(['serve', '--model-dir', modelDir, '--ic', wrongType]);
    assert.equal(r2.code, 2);
    assert.equal(errorOf(r2.stderr).code, 'INVALID_CONFIG');

    const r3 = await runCli(['serve', '--model-dir', modelDir, '--ic', join(dir, 'missing.json')]);
    assert.equal(r3.code, 2);
    assert.equal(errorOf(r3.stderr).code, 'PATH_NOT_FOUND');
  });

  test('when no model or a bad flag is given then it fails with exit code 2 and says what to pass', async (t) => {
    const dir = tempDir(t);
    const none = await runCli(['serve', '--port', '0']);
    assert.equal(none.code, 2);
    assert.equal(errorOf(none.stderr).code, 'INVALID_ARGUMENT');
    assert.match(none.stderr, /--model-dir/);

    const missing = await runCli(['serve', '--model-dir', join(dir, 'nope')]);
    assert.equal(missing.code, 2);
    assert.equal(errorOf(missing.stderr).code, 'PATH_NOT_FOUND');

    const { modelDir, ic } = nodeService(dir, 'sv-control.js');
    const badPort = await runCli(['serve', '--model-dir', modelDir, '--ic', ic, '--port', 'http']);
    assert.equal(badPort.code, 2);
    assert.equal(errorOf(badPort.stderr).code, 'INVALID_ARGUMENT');

    const halfTls = await runCli(['serve', '--model-dir', modelDir, '--ic', ic, '--tls-cert', ic]);
    assert.equal(halfTls.code, 2);
    assert.equal(errorOf(halfTls.stderr).code, 'INVALID_ARGUMENT');

    // a log file under a regular file: it cannot be created; nothing starts, nothing is left running
    const badLog = await runCli([
      'serve',
      '--model-dir',
      modelDir,
      '--ic',
      ic,
      '--log-file',
      join(ic, 'x.log'),
    ]);
    assert.equal(badLog.code, 2);
    assert.equal(errorOf(badLog.stderr).code, 'INVALID_ARGUMENT');
    assert.match(badLog.stderr, /Cannot open the log file .*x\.log/);
    assert.doesNotMatch(badLog.stderr, /Listening/);

    const json = await runCli(['--json', 'serve', '--port', '0']);
    assert.equal(json.code, 2);
    assert.equal(JSON.parse(json.stderr).error.code, 'INVALID_ARGUMENT');
  });

  test('when keys come from BERTH_KEYS and --key then the flag wins and other keys get 401', async (t) => {
    const dir = tempDir(t);
    const { modelDir, ic } = nodeService(dir, 'sv-control.js');
    const env = { BERTH_KEYS: 'env-primary-key, env-secondary-key' };
    const s = await startServe(t, ['--model-dir', modelDir, '--ic', ic, '--port', '0'], { env });
    const none = await postJson(`${s.url}/score`, {});
    assert.equal(none.status, 401);
    assert.equal((none.body.error as { code: string }).code, 'UNAUTHORIZED');
    assert.equal(
      (await postJson(`${s.url}/score`, {}, { authorization: 'Bearer env-secondary-key' })).status,
      200,
    );
    assert.equal((await fetch(`${s.url}/health/ready`)).status, 200, 'health stays open');
    await s.stop();

    const s2 = await startServe(
      t,
      ['--model-dir', modelDir, '--ic', ic, '--port', '0', '--key', 'flag-key-1234'],
      { env },
    );
    assert.equal(
      (await postJson(`${s2.url}/score`, {}, { authorization: 'Bearer flag-key-1234' })).status,
      200,
    );
    assert.equal(
      (await postJson(`${s2.url}/score`, {}, { authorization: 'Bearer env-primary-key' })).status,
      401,
    );
    await s2.stop();
  });

  test('when --keys-file holds the keys then they are accepted, and SIGHUP reads the edited file again', async (t) => {
    const dir = tempDir(t);
    const { modelDir, ic } = nodeService(dir, 'sv-control.js');
    const keysFile = join(dir, 'keys.json');
    // what `berth service keys NAME --json` prints
    writeFileSync(
      keysFile,
      JSON.stringify({ primaryKey: 'file-primary-key', secondaryKey: 'file-secondary-key' }),
    );
    const stateFile = join(dir, 'state.json');
    const s = await startServe(t, [
      ...['--model-dir', modelDir, '--ic', ic, '--port', '0'],
      ...['--keys-file', keysFile, '--state-file', stateFile],
    ]);
    const status = async (key?: string) =>
      (await postJson(`${s.url}/score`, {}, key ? { authorization: `Bearer ${key}` } : {})).status;
    assert.equal(await status(), 401);
    assert.equal(await status('file-primary-key'), 200);
    assert.equal(await status('file-secondary-key'), 200);
    assert.equal(await status('rotated-key-1'), 401);

    writeFileSync(keysFile, '# rotated on purpose\nrotated-key-1\n\n');
    s.child.kill('SIGHUP');
    await waitFor(() => readState(stateFile)?.generation === 2, 'generation 2');
    await waitFor(async () => (await status('rotated-key-1')) === 200, 'the rotated key accepted');
    assert.equal(await status('file-primary-key'), 401);
    assert.equal((await s.stop()).code, 0);
  });

  test('when BERTH_KEYS_FILE names a keys file then it is used; a missing or empty one is refused', async (t) => {
    const dir = tempDir(t);
    const { modelDir, ic } = nodeService(dir, 'sv-control.js');
    const keysFile = join(dir, 'keys.txt');
    writeFileSync(keysFile, 'env-file-key\n');
    const args = ['--model-dir', modelDir, '--ic', ic, '--port', '0'];
    const s = await startServe(t, args, { env: { BERTH_KEYS_FILE: keysFile } });
    assert.equal((await postJson(`${s.url}/score`, {})).status, 401);
    assert.equal(
      (await postJson(`${s.url}/score`, {}, { authorization: 'Bearer env-file-key' })).status,
      200,
    );
    await s.stop();

    const missing = join(dir, 'no-such-keys.txt');
    const r = await runCli(['--json', 'serve', ...args, '--keys-file', missing]);
    assert.equal(r.code, 2);
    const error = JSON.parse(r.stderr).error as { code: string; message: string };
    assert.equal(error.code, 'PATH_NOT_FOUND');
    assert.ok(error.message.includes(missing), error.message);

    const empty = join(dir, 'empty-keys.txt');
    writeFileSync(empty, '# nothing yet\n\n');
    const e = await runCli(['--json', 'serve', ...args, '--keys-file', empty]);
    assert.equal(e.code, 2);
    assert.equal(JSON.parse(e.stderr).error.code, 'INVALID_ARGUMENT');
    assert.match(JSON.parse(e.stderr).error.message, /holds no key/);

    const notObject = join(dir, 'keys.json');
    writeFileSync(notObject, '{"primaryKey": 42}');
    const j = await runCli(['--json', 'serve', ...args, '--keys-file', notObject]);
    assert.equal(j.code, 2);
    assert.match(JSON.parse(j.stderr).error.message, /"primaryKey" must be a non-empty string/);
  });

  test('when --dc gives replicas and keys then they apply below the flags', async (t) => {
    const dir = tempDir(t);
    const { modelDir, ic } = nodeService(dir, 'sv-control.js');
    const dc = join(dir, 'dc.json');
    writeFileSync(
      dc,
      JSON.stringify({
        numReplicas: 2,
        authEnabled: true,
        keys: { primaryKey: 'dc-primary-key' },
        scoringTimeoutMs: 1234,
      }),
    );
    const stateFile = join(dir, 'state.json');
    const s = await startServe(t, [
      '--model-dir',
      modelDir,
      '--ic',
      ic,
      '--dc',
      dc,
      '--port',
      '0',
      '--state-file',
      stateFile,
    ]);
    assert.deepEqual(readState(stateFile)?.replicas, { desired: 2, ready: 2 });
    assert.equal((await postJson(`${s.url}/score`, {})).status, 401);
    assert.equal(
      (await postJson(`${s.url}/score`, {}, { authorization: 'Bearer dc-primary-key' })).status,
      200,
    );
    await s.stop();

    const s2 = await startServe(t, [
      '--model-dir',
      modelDir,
      '--ic',
      ic,
      '--dc',
      dc,
      '--port',
      '0',
      '--replicas',
      '1',
      '--state-file',
      stateFile,
    ]);
    assert.deepEqual(readState(stateFile)?.replicas, { desired: 1, ready: 1 });
    await s2.stop();
  });

  test('when --tls-cert and --tls-key are given then it serves HTTPS', async (t) => {
    const dir = tempDir(t);
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          key,
          '-out',
          cert,
          '-days',
          '1',
          '-subj',
          '/CN=localhost',
        ],
        { stdio: 'ignore' },
      );
    } catch {
      t.skip('openssl is not installed');
      return;
    }
    const { modelDir, ic } = nodeService(dir, 'sv-control.js');
    const s = await startServe(t, [
      '--model-dir',
      modelDir,
      '--ic',
      ic,
      '--port',
      '0',
      '--tls-cert',
      cert,
      '--tls-key',
      key,
    ]);
    assert.match(s.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const body = JSON.stringify({ secure: true });
      const req = httpsRequest(
        `${s.url}/score`,
        { method: 'POST', rejectUnauthorized: false, headers: { 'content-type': 'application/json' } },
        (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    assert.equal(answer.status, 200);
    assert.deepEqual(JSON.parse(answer.body).input, { secure: true });
    assert.equal((await s.stop()).code, 0);
  });

  test('when started as node dist/serving/main.js --spec then it serves the spec', async (t) => {
    const dir = tempDir(t);
    const { modelDir } = nodeService(dir, 'sv-control.js');
    const spec = join(dir, 'spec.json');
    writeFileSync(
      spec,
      JSON.stringify({
        name: 'direct',
        models: [{ name: 'm', version: 3, path: modelDir }],
        inferenceConfig: { entryScript: join(ENTRY_SCRIPTS, 'sv-control.js') },
        port: 0,
      }),
    );
    const s = await startServe(t, ['--spec', spec], { direct: true });
    assert.equal((await postJson(`${s.url}/score`, { a: 1 })).status, 200);
    assert.equal((await fetch(`${s.url}/v2/models/m/versions/3/ready`)).status, 200);
    assert.equal((await s.stop()).code, 0);

    writeFileSync(spec, JSON.stringify({ name: 'direct', models: [], inferenceConfig: {}, replicas: 0 }));
    const bad = await startServe(t, ['--spec', spec], { direct: true, waitListening: false });
    assert.equal((await bad.exited).code, 2);
    assert.match(bad.stderr(), /Code: {2}INVALID_CONFIG/);
    assert.match(bad.stderr(), /replicas/);
  });
});
