import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { BerthError } from '../../src/core/errors.js';
import { createRuntime } from '../../src/serving/runtimes/create-runtime.js';
import { resolveModelPath } from '../../src/serving/runtimes/model-path.js';
import { tempDir } from '../helpers/temp-dir.js';
import { nodeConfig, quietLogger } from './scoring-harness.js';

const LIMITS = { scoringTimeoutMs: 5_000, initTimeoutMs: 5_000 };

async function loadError(
  entryScript: string,
  extra: { initTimeoutMs?: number; log?: ReturnType<typeof quietLogger> } = {},
) {
  const runtime = await createRuntime({
    config: nodeConfig(entryScript),
    models: [],
    log: extra.log ?? quietLogger(),
    limits: { ...LIMITS, initTimeoutMs: extra.initTimeoutMs ?? LIMITS.initTimeoutMs },
  });
  try {
    await runtime.load();
  } catch (err) {
    assert.ok(err instanceof BerthError, `expected a BerthError, got ${String(err)}`);
    return err;
  }
  assert.fail('load() should have failed');
}

test('when the entry script is missing then load fails with ENTRY_SCRIPT_NOT_FOUND', async () => {
  const err = await loadError('does-not-exist.js');
  assert.equal(err.code, 'ENTRY_SCRIPT_NOT_FOUND');
  assert.equal(err.exitCode, 2);
  assert.match(err.message, /does-not-exist\.js/);
});

test('when the entry script has a syntax error then load fails with ENTRY_SCRIPT_INVALID', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'syntax-error.js');
  writeFileSync(file, 'export function run(input) {\n  return input +;\n}\n');
  const err = await loadError(file);
  assert.equal(err.code, 'ENTRY_SCRIPT_INVALID');
  assert.equal(err.status, 400);
  assert.match(err.message, /cannot be loaded/);
});

test('when the entry script exports no run then load fails with ENTRY_SCRIPT_INVALID', async () => {
  const err = await loadError('no-run.js');
  assert.equal(err.code, 'ENTRY_SCRIPT_INVALID');
  assert.match(err.message, /run\(input, ctx\)/);
});

test('when init throws then load fails with INIT_FAILED and the log has the original stack', async (t) => {
  const file = join(tempDir(t), 'replica.log');
  const log = pino({ level: 'info' }, pino.destination({ dest: file, sync: true }));
  const err = await loadError('throws-in-init.js', { log });
  assert.equal(err.code, 'INIT_FAILED');
  assert.equal(err.exitCode, 9);
  assert.match(err.message, /cannot open the model file/);
  const logged = readFileSync(file, 'utf8');
  assert.match(logged, /init\(\) of the entry script failed/);
  assert.match(logged, /throws-in-init\.js/);
});

test('when init never finishes then load fails with INIT_FAILED after initTimeoutMs', async () => {
  const err = await loadError('hang-init.js', { initTimeoutMs: 200 });
  assert.equal(err.code, 'INIT_FAILED');
  assert.match(err.message, /did not finish within 200 ms/);
});

test('when a CommonJS entry script exports init and run then it loads', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'score.cjs');
  writeFileSync(
    file,
    'module.exports = { k: 0, init() { this.k = 2; }, run(x) { return { got: x * this.k }; } };\n',
  );
  const runtime = await createRuntime({
    config: nodeConfig(file),
    models: [],
    log: quietLogger(),
    limits: LIMITS,
  });
  await runtime.load();
  assert.deepEqual(
    await runtime.score({ body: 21, raw: Buffer.from('21'), contentType: 'application/json' }),
    {
      got: 42,
    },
  );
});

test('when an environment folder is given then the entry script imports packages from its node_modules', async (t) => {
  const env = tempDir(t);
  const pkg = join(env, 'node_modules', 'berth-env-fixture-pkg');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(
    join(pkg, 'package.json'),
    JSON.stringify({ name: 'berth-env-fixture-pkg', type: 'module', exports: './index.js' }),
  );
  writeFileSync(join(pkg, 'index.js'), 'export function greet(name) { return "hello " + name; }\n');
  const runtime = await createRuntime({
    config: nodeConfig('env-import.js'),
    models: [],
    log: quietLogger(),
    limits: LIMITS,
    environmentDir: env,
  });
  await runtime.load();
  const out = await runtime.score({
    body: { name: 'berth' },
    raw: Buffer.alloc(0),
    contentType: 'application/json',
  });
  assert.equal(out, 'hello berth');
});

test('when modelPath is asked for a model then it answers the single file, the folder, the latest version or a file name', (t) => {
  const single = tempDir(t);
  writeFileSync(join(single, 'model.pkl'), 'x');
  const v1 = tempDir(t);
  writeFileSync(join(v1, 'a.bin'), 'a');
  const multi = tempDir(t);
  writeFileSync(join(multi, 'a.bin'), 'a');
  writeFileSync(join(multi, 'b.bin'), 'b');
  const models = [
    { name: 'sk', version: 1, path: single },
    { name: 'multi', version: 1, path: v1 },
    { name: 'multi', version: 2, path: multi },
  ];
  assert.equal(resolveModelPath(models, 'sk'), join(single, 'model.pkl'));
  assert.equal(resolveModelPath(models, 'multi'), multi);
  assert.equal(resolveModelPath(models, 'multi', 1), join(v1, 'a.bin'));
  assert.equal(resolveModelPath(models, 'model.pkl'), join(single, 'model.pkl'));
  assert.throws(
    () => resolveModelPath(models, 'other'),
    (e: unknown) => e instanceof BerthError && e.code === 'MODEL_NOT_FOUND' && /sk:1/.test(e.message),
  );
});

test('when run returns a promise that rejects then score rejects with SCORING_FAILED keeping the cause', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'reject.mjs');
  writeFileSync(file, 'export async function run() { throw new TypeError("bad thing"); }\n');
  const runtime = await createRuntime({
    config: nodeConfig(file),
    models: [],
    log: quietLogger(),
    limits: LIMITS,
  });
  await runtime.load();
  await assert.rejects(
    runtime.score({ body: {}, raw: Buffer.alloc(0), contentType: 'application/json' }),
    (e: unknown) => e instanceof BerthError && e.code === 'SCORING_FAILED' && e.cause instanceof TypeError,
  );
});
