import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseInferenceConfig } from '../../src/core/config/inference-config.js';
import { createRuntime } from '../../src/serving/runtimes/create-runtime.js';
import { createScoringServer } from '../../src/serving/scoring-server.js';
import { SERVE_DEFAULTS } from '../../src/serving/serve-defaults.js';
import type { ServedModel, ServeSpec, ServingLimits } from '../../src/serving/serve-spec.js';
import { BERTH_BIN, runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/temp-dir.js';
import {
  captureLogger,
  type JsonTree,
  SCRIPTS,
  SEED_DIR,
  SYSTEM_PYTHON,
  trainSeedModel,
} from './python-test-kit.js';

type TestLike = { after(fn: () => unknown): void };
const SEED_REQUEST = '{"data": [[1,2,3,4,5,6,7,8,9,10],[10,9,8,7,6,5,4,3,2,1]]}';

/** The SERVER's scoring server around the python runtime, in this process, on 127.0.0.1:0. */
async function serveInProcess(
  t: TestLike,
  options: {
    entryScript: string;
    condaFile?: string;
    models?: ServedModel[];
    keys?: string[];
    workers?: number;
    limits?: Partial<ServingLimits>;
  },
): Promise<{ url: string; logs: ReturnType<typeof captureLogger> }> {
  const logs = captureLogger();
  const config = parseInferenceConfig(
    {
      runtime: 'python',
      entryScript: options.entryScript,
      condaFile: options.condaFile,
      workersPerReplica: options.workers,
      pythonInterpreter: SYSTEM_PYTHON,
    },
    SEED_DIR,
  );
  const limits: ServingLimits = { ...SERVE_DEFAULTS, ...options.limits };
  const models = options.models ?? [];
  const spec: ServeSpec = {
    name: 'python-test',
    models,
    inferenceConfig: config,
    host: '127.0.0.1',
    port: 0,
    replicas: 1,
    limits,
    keys: options.keys,
  };
  const runtime = await createRuntime({ config, models, log: logs.log, limits });
  t.after(() => runtime.close());
  await runtime.load();
  const scoring = createScoringServer({ spec, runtime, log: logs.log });
  await new Promise<void>((resolve) => scoring.server.listen(0, '127.0.0.1', resolve));
  scoring.setReady(true);
  t.after(() => new Promise<void>((resolve) => scoring.server.close(() => resolve())));
  t.after(() => scoring.server.closeAllConnections());
  const { port } = scoring.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, logs };
}

function post(url: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Response> {
  const contentType = Buffer.isBuffer(body) ? 'application/octet-stream' : 'application/json';
  return fetch(`${url}/score`, {
    method: 'POST',
    body,
    headers: { 'content-type': contentType, ...headers },
  });
}

async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  const body = (await res.json()) as { error: { code: string; message: string } };
  return body.error;
}

test("when the seed's scikit-learn example is served then a Bearer-keyed request gets sklearn's prediction and /swagger.json describes numpy input and output", async (t) => {
  const { modelDir, expected } = trainSeedModel(tempDir(t));
  const { url } = await serveInProcess(t, {
    entryScript: join(SEED_DIR, 'score.py'),
    condaFile: join(SEED_DIR, 'myenv.yml'),
    models: [{ name: 'sklearn_regression_model.pkl', version: 1, path: modelDir }],
    keys: ['seed-key'],
  });
  const res = await post(url, SEED_REQUEST, { authorization: 'Bearer seed-key' });
  assert.equal(res.status, 200);
  const predictions = (await res.json()) as number[];
  assert.equal(predictions.length, 2);
  for (const [i, v] of predictions.entries())
    assert.ok(Math.abs(v - expected[i]) < 1e-6, `${v} vs ${expected[i]}`);

  const noKey = await post(url, SEED_REQUEST);
  assert.equal(noKey.status, 401);
  assert.equal((await errorOf(noKey)).code, 'UNAUTHORIZED');

  const badShape = await post(url, '{"data": [[1, 2, 3]]}', { authorization: 'Bearer seed-key' });
  assert.equal(badShape.status, 400);
  assert.equal((await errorOf(badShape)).code, 'BAD_REQUEST');

  const swagger = await fetch(`${url}/swagger.json`, { headers: { authorization: 'Bearer seed-key' } });
  assert.equal(swagger.status, 200);
  const doc = (await swagger.json()) as JsonTree;
  const input = doc.components.schemas.ServiceInput;
  const output = doc.components.schemas.ServiceOutput;
  assert.equal(input.type, 'object');
  assert.equal(input.properties.data.type, 'array');
  assert.equal(input.properties.data.items.type, 'array');
  assert.equal(input.properties.data.items.items.format, 'int64');
  assert.deepEqual(input.example, { data: [[10, 9, 8, 7, 6, 5, 4, 3, 2, 1]] });
  assert.equal(output.type, 'array');
  assert.equal(output.items.format, 'double');
  assert.deepEqual(output.example, [3726.995]);
});

test('when scripts raise, exit, hang or print through the scoring server then each answer says so and the service keeps serving', async (t) => {
  const { url, logs } = await serveInProcess(t, {
    entryScript: join(SCRIPTS, 'misbehave.py'),
    workers: 2,
    limits: { scoringTimeoutMs: 1500 },
  });
  const raised = await post(url, '{"do": "raise"}');
  assert.equal(raised.status, 500);
  assert.deepEqual(await errorOf(raised), {
    code: 'SCORING_FAILED',
    message: 'run() raised ValueError: asked to fail',
  });

  const exited = await post(url, '{"do": "exit"}');
  assert.equal(exited.status, 500);
  assert.equal((await errorOf(exited)).code, 'SCORING_FAILED');

  const hanging = post(url, '{"do": "sleep"}');
  const meanwhile = await Promise.all([1, 2, 3].map(() => post(url, '{"do": "echo"}')));
  assert.deepEqual(
    meanwhile.map((r) => r.status),
    [200, 200, 200],
  );
  const timedOut = await hanging;
  assert.equal(timedOut.status, 504);
  assert.equal((await errorOf(timedOut)).code, 'SCORING_TIMEOUT');

  const printed = await post(url, '{"do": "print", "lines": 5000}');
  assert.equal(printed.status, 200);
  assert.deepEqual(await printed.json(), { printed: 5000 });

  const text = await post(url, '{"do": "error-string"}');
  assert.equal(text.status, 200);
  assert.equal(await text.json(), 'could not score: bad input');

  const bytes = await post(url, Buffer.from([0, 1, 2, 255, 254]));
  assert.equal(bytes.status, 200);
  assert.deepEqual(((await bytes.json()) as { first: number[] }).first, [0, 1, 2, 255]);

  const after = await Promise.all([1, 2, 3, 4].map(() => post(url, '{"do": "echo"}')));
  assert.deepEqual(
    after.map((r) => r.status),
    [200, 200, 200, 200],
  );
  assert.ok(logs.entries().filter((e) => e.stream === 'stdout').length >= 5000);
});

/** `berth serve ARGS` as a child process; resolves with its URL once it prints `Listening on URL`. */
function startBerthServe(
  t: TestLike,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ url: string; child: ChildProcess; output(): string }> {
  const child = spawn(process.execPath, [BERTH_BIN, 'serve', ...args], {
    env: { ...process.env, BERTH_WORKSPACE: undefined, BERTH_KEYS: undefined, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`berth serve did not listen within 60 s:\n${out}`)),
      60_000,
    );
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`berth serve exited (${code}):\n${out}`));
    });
    child.stdout?.on('data', () => {
      const m = /^Listening on (https?:\/\/\S+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], child, output: () => out });
      }
    });
  });
}

test("when the registered seed model is served by `berth serve` with BERTH_PYTHON then the seed's request is answered", async (t) => {
  const dir = tempDir(t);
  const { modelDir, expected } = trainSeedModel(dir);
  const workspace = join(dir, 'ws');
  const code = join(dir, 'code');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(code);
  copyFileSync(join(SEED_DIR, 'score.py'), join(code, 'score.py'));
  copyFileSync(join(SEED_DIR, 'myenv.yml'), join(code, 'myenv.yml'));
  writeFileSync(
    join(code, 'inferenceconfig.json'),
    JSON.stringify({
      runtime: 'python',
      entryScript: 'score.py',
      sourceDirectory: '.',
      condaFile: 'myenv.yml',
    }),
  );
  const registered = await runCli([
    'model',
    'register',
    '-n',
    'sklearn_regression_model.pkl',
    '-p',
    join(modelDir, 'sklearn_regression_model.pkl'),
    '--workspace',
    workspace,
    '--json',
  ]);
  assert.equal(registered.code, 0, registered.stderr);
  const serve = await startBerthServe(
    t,
    [
      '--workspace',
      workspace,
      '--model',
      'sklearn_regression_model.pkl:1',
      '--ic',
      join(code, 'inferenceconfig.json'),
      '--port',
      '0',
      '--key',
      'cli-key',
    ],
    { BERTH_PYTHON: SYSTEM_PYTHON },
  );
  const res = await post(serve.url, SEED_REQUEST, { authorization: 'Bearer cli-key' });
  assert.equal(res.status, 200, serve.output());
  const predictions = (await res.json()) as number[];
  for (const [i, v] of predictions.entries()) assert.ok(Math.abs(v - expected[i]) < 1e-6);
  const swagger = (await (await fetch(`${serve.url}/swagger.json`)).json()) as JsonTree;
  assert.equal(swagger.components.schemas.ServiceInput.properties.data.type, 'array');
});
