import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  FETCH_MODELS_SCRIPT,
  MODEL_FILE_ROUTE,
  type ModelFetchPlan,
} from '../../src/deploy/targets/kubernetes/fetch-models-script.js';
import { tempDir } from '../helpers/temp-dir.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const FILES: Record<string, Buffer> = {
  'model.onnx': Buffer.from('onnx-bytes-0123'),
  'vocab/words.txt': Buffer.from('a\nb\n'),
};
const folderSha = sha(
  Object.keys(FILES)
    .sort()
    .map((p) => `${p}\0${sha(FILES[p])}\n`)
    .join(''),
);

/** A stand-in for the management API's model file route, recording the requests it got. */
async function managementApi(t: import('node:test').TestContext, files: Record<string, Buffer>) {
  const seen: { url: string; auth?: string }[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ url: req.url ?? '', auth: req.headers.authorization });
    const m = (req.url ?? '').match(/^\/api\/models\/mlp:2\/files\/(.+)$/);
    const body = m ? files[decodeURIComponent(m[1])] : undefined;
    if (!body) {
      res.writeHead(404, { 'content-type': 'application/json' });
      return res.end('{"error":{"code":"MODEL_NOT_FOUND","message":"no such file"}}');
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function runScript(dir: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const script = join(dir, 'fetch-models.mjs');
  writeFileSync(script, FETCH_MODELS_SCRIPT);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

function writePlan(dir: string, plan: ModelFetchPlan): Record<string, string> {
  writeFileSync(join(dir, 'models.json'), JSON.stringify(plan));
  writeFileSync(
    join(dir, 'serve.json'),
    JSON.stringify({ name: 'svc', models: [], inferenceConfig: { runtime: 'onnx' }, port: 5001 }),
  );
  return {
    BERTH_PLAN: join(dir, 'models.json'),
    BERTH_SERVE_TEMPLATE: join(dir, 'serve.json'),
    BERTH_SERVE_FILE: join(dir, 'run', 'serve.json'),
  };
}

function plan(dir: string, source: 'api' | 'image', sha256 = folderSha): ModelFetchPlan {
  return {
    source,
    route: MODEL_FILE_ROUTE,
    models: [
      {
        name: 'mlp',
        version: 2,
        sha256,
        dir: join(dir, 'models', 'mlp', '2'),
        files: Object.entries(FILES).map(([path, b]) => ({ path, sha256: sha(b), size: b.length })),
      },
    ],
  };
}

test('when the init program fetches models from the management API then it checks every sha256 and writes serve.json with the keys', async (t) => {
  const dir = tempDir(t);
  const api = await managementApi(t, FILES);
  const env = writePlan(dir, plan(dir, 'api'));
  const r = await runScript(dir, {
    ...env,
    BERTH_WORKSPACE_URL: `${api.url}/`,
    BERTH_TOKEN: 'tok-1',
    BERTH_PRIMARY_KEY: 'key-a',
    BERTH_SECONDARY_KEY: 'key-b',
  });
  assert.equal(r.code, 0, r.out);
  assert.deepEqual(api.seen.map((s) => s.url).sort(), [
    '/api/models/mlp:2/files/model.onnx',
    '/api/models/mlp:2/files/vocab/words.txt',
  ]);
  assert.ok(api.seen.every((s) => s.auth === 'Bearer tok-1'));
  assert.deepEqual(readFileSync(join(dir, 'models/mlp/2/vocab/words.txt')), FILES['vocab/words.txt']);
  const spec = JSON.parse(readFileSync(env.BERTH_SERVE_FILE, 'utf8'));
  assert.deepEqual(spec.keys, ['key-a', 'key-b']);
  assert.deepEqual(spec.models, [{ name: 'mlp', version: 2, path: join(dir, 'models', 'mlp', '2') }]);
  assert.match(r.out, /model mlp:2 verified/);
});

test('when a downloaded file does not match its sha256 then the init program exits 1 naming the file and writes no serve.json', async (t) => {
  const dir = tempDir(t);
  const api = await managementApi(t, { ...FILES, 'model.onnx': Buffer.from('tampered-bytes!') });
  const env = writePlan(dir, plan(dir, 'api'));
  const r = await runScript(dir, { ...env, BERTH_WORKSPACE_URL: api.url });
  assert.equal(r.code, 1);
  assert.match(r.out, /"level":50.*model mlp:2 file \\"model\.onnx\\" has sha256 [0-9a-f]{64}/);
  assert.throws(() => readFileSync(env.BERTH_SERVE_FILE));
});

test('when the models are inside the image then the init program only verifies them, and a wrong version sha256 fails', async (t) => {
  const dir = tempDir(t);
  for (const [p, b] of Object.entries(FILES)) {
    mkdirSync(join(dir, 'models/mlp/2', p, '..'), { recursive: true });
    writeFileSync(join(dir, 'models/mlp/2', p), b);
  }
  const ok = await runScript(dir, writePlan(dir, plan(dir, 'image')));
  assert.equal(ok.code, 0, ok.out);
  const bad = await runScript(dir, writePlan(dir, plan(dir, 'image', 'f'.repeat(64))));
  assert.equal(bad.code, 1);
  assert.match(bad.out, /model mlp:2 has sha256 [0-9a-f]{64}, expected f{64}/);
});
