import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/temp-dir.js';
import {
  type JsonTree,
  pythonRuntime,
  SCRIPTS,
  SEED_DIR,
  score,
  thrown,
  trainSeedModel,
} from './python-test-kit.js';

const SEED_REQUEST = '{"data": [[1,2,3,4,5,6,7,8,9,10],[10,9,8,7,6,5,4,3,2,1]]}';

test("when the seed's scikit-learn score.py is loaded then run answers sklearn's own prediction", async (t) => {
  const { modelDir, expected } = trainSeedModel(tempDir(t));
  const { runtime } = pythonRuntime(t, {
    entryScript: join(SEED_DIR, 'score.py'),
    condaFile: join(SEED_DIR, 'myenv.yml'),
    models: [{ name: 'sklearn_regression_model.pkl', version: 1, path: modelDir }],
  });
  await runtime.load();
  const result = (await score(runtime, SEED_REQUEST)) as number[];
  assert.equal(result.length, 2);
  for (const [i, v] of result.entries())
    assert.ok(Math.abs(v - expected[i]) < 1e-6, `${v} vs ${expected[i]}`);
  const schema = runtime.schema() as unknown as JsonTree;
  assert.equal(schema.input.type, 'object');
  assert.deepEqual(schema.input.required, ['data']);
  assert.equal(schema.input.properties.data.type, 'array');
  assert.equal(schema.input.properties.data.items.type, 'array');
  assert.equal(schema.input.properties.data.items.items.format, 'int64');
  assert.deepEqual(schema.input.example, { data: [[10, 9, 8, 7, 6, 5, 4, 3, 2, 1]] });
  assert.deepEqual(schema.output, {
    type: 'array',
    items: { type: 'number', format: 'double' },
    example: [3726.995],
  });
});

test('when a request does not fit the numpy input schema then it is BAD_REQUEST (400) and the worker goes on', async (t) => {
  const { modelDir } = trainSeedModel(tempDir(t));
  const { runtime } = pythonRuntime(t, {
    entryScript: join(SEED_DIR, 'score.py'),
    models: [{ name: 'regression', version: 3, path: modelDir }],
  });
  await runtime.load();
  const wrongShape = await thrown(() => score(runtime, '{"data": [[1, 2]]}'));
  assert.equal(wrongShape.code, 'BAD_REQUEST');
  assert.equal(wrongShape.status, 400);
  assert.match(wrongShape.message, /"data".*dimension 1/);
  const notObject = await thrown(() => score(runtime, '[[1,2,3]]'));
  assert.equal(notObject.code, 'BAD_REQUEST');
  assert.match(notObject.message, /JSON object with the field\(s\) data/);
  const unknown = await thrown(() => score(runtime, '{"data": [[1,2,3,4,5,6,7,8,9,10]], "extra": 1}'));
  assert.equal(unknown.code, 'BAD_REQUEST');
  assert.match(unknown.message, /Unknown field\(s\) extra/);
  // floats are converted to the sample's dtype, as the seed system does
  const ok = (await score(runtime, '{"data": [[1.2,2,3,4,5,6,7,8,9,10]]}')) as number[];
  assert.equal(ok.length, 1);
});

test('when init raises then load fails with INIT_FAILED and the traceback is in the log', async (t) => {
  const { runtime, logs } = pythonRuntime(t, { entryScript: join(SCRIPTS, 'init_raises.py') });
  const err = await thrown(() => runtime.load());
  assert.equal(err.code, 'INIT_FAILED');
  assert.equal(err.status, 500);
  assert.match(err.message, /init\(\) in init_raises\.py raised RuntimeError: the model file is corrupt/);
  assert.match(logs.text(), /Traceback \(most recent call last\)/);
  assert.match(logs.text(), /init_raises\.py/);
});

test('when init calls sys.exit then load fails with INIT_FAILED naming it', async (t) => {
  const { runtime } = pythonRuntime(t, { entryScript: join(SCRIPTS, 'init_exits.py') });
  const err = await thrown(() => runtime.load());
  assert.equal(err.code, 'INIT_FAILED');
  assert.match(err.message, /sys\.exit\(4\)/);
});

test('when init hangs past initTimeoutMs then load fails with INIT_FAILED saying so and the worker is gone', async (t) => {
  const { runtime } = pythonRuntime(t, { entryScript: join(SCRIPTS, 'init_hangs.py'), initTimeoutMs: 1500 });
  const err = await thrown(() => runtime.load());
  assert.equal(err.code, 'INIT_FAILED');
  assert.equal(err.status, 500);
  assert.match(err.message, /init\(\) did not finish within 1500 ms/);
});

test('when the script has a syntax error or no run() then load fails with ENTRY_SCRIPT_INVALID', async (t) => {
  for (const script of ['syntax_error.py', 'no_run.py']) {
    const { runtime } = pythonRuntime(t, { entryScript: join(SCRIPTS, script) });
    const err = await thrown(() => runtime.load());
    assert.equal(err.code, 'ENTRY_SCRIPT_INVALID', script);
    assert.equal(err.status, 400);
  }
});

test('when the entry script does not exist then load fails with ENTRY_SCRIPT_NOT_FOUND', async (t) => {
  const { runtime } = pythonRuntime(t, { entryScript: join(SCRIPTS, 'nope.py') });
  const err = await thrown(() => runtime.load());
  assert.equal(err.code, 'ENTRY_SCRIPT_NOT_FOUND');
  assert.equal(err.status, 400);
});

test('when the script imports a module the interpreter lacks then INIT_FAILED hints at the interpreter and the conda file', async (t) => {
  const { runtime } = pythonRuntime(t, { entryScript: join(SCRIPTS, 'imports_missing.py') });
  const err = await thrown(() => runtime.load());
  assert.equal(err.code, 'INIT_FAILED');
  assert.match(err.message, /No module named 'berth_no_such_module_xyz'/);
  assert.match(err.hint ?? '', /BERTH_PYTHON/);
});

test('when the interpreter does not exist then load fails with INIT_FAILED naming it', async (t) => {
  const { runtime } = pythonRuntime(t, {
    entryScript: join(SCRIPTS, 'misbehave.py'),
    interpreter: '/nonexistent/python3.99',
  });
  const err = await thrown(() => runtime.load());
  assert.equal(err.code, 'INIT_FAILED');
  assert.match(err.message, /\/nonexistent\/python3\.99" was not found/);
});

test('when run raises then that request is SCORING_FAILED (500) and the same worker serves the next', async (t) => {
  const { runtime, logs } = pythonRuntime(t, { entryScript: join(SCRIPTS, 'misbehave.py') });
  await runtime.load();
  const before = (await score(runtime, '{"do": "echo"}')) as { pid: number };
  const err = await thrown(() => score(runtime, '{"do": "raise"}'));
  assert.equal(err.code, 'SCORING_FAILED');
  assert.equal(err.status, 500);
  assert.equal(err.message, 'run() raised ValueError: asked to fail');
  assert.match(logs.text(), /Traceback[\s\S]*asked to fail/);
  const after = (await score(runtime, '{"do": "echo"}')) as { pid: number; calls: number };
  assert.equal(after.pid, before.pid);
  assert.equal(after.calls, 3);
});

test('when run returns an error string then it is passed through as the answer', async (t) => {
  const { runtime } = pythonRuntime(t, { entryScript: join(SCRIPTS, 'misbehave.py') });
  await runtime.load();
  assert.equal(await score(runtime, '{"do": "error-string"}'), 'could not score: bad input');
});

test('when run calls sys.exit or the process dies then that request fails (500) and a new worker takes over', async (t) => {
  const { runtime, logs } = pythonRuntime(t, { entryScript: join(SCRIPTS, 'misbehave.py') });
  await runtime.load();
  const first = (await score(runtime, '{"do": "echo"}')) as { pid: number };
  const exit = await thrown(() => score(runtime, '{"do": "exit"}'));
  assert.equal(exit.code, 'SCORING_FAILED');
  assert.equal(exit.status, 500);
  assert.match(exit.message, /sys\.exit\(3\)/);
  const second = (await score(runtime, '{"do": "echo"}')) as { pid: number; calls: number };
  assert.notEqual(second.pid, first.pid);
  assert.equal(second.calls, 1);
  const killed = await thrown(() => score(runtime, '{"do": "kill"}'));
  assert.equal(killed.code, 'SCORING_FAILED');
  assert.match(killed.message, /exited with code 9 while running run\(\)/);
  const third = (await score(runtime, '{"do": "echo"}')) as { pid: number };
  assert.notEqual(third.pid, second.pid);
  assert.match(logs.text(), /misbehave: init in pid/);
});

test('when run hangs past scoringTimeoutMs then it is SCORING_TIMEOUT (504), the worker is replaced and the other worker kept serving', async (t) => {
  const { runtime } = pythonRuntime(t, {
    entryScript: join(SCRIPTS, 'misbehave.py'),
    workers: 2,
    scoringTimeoutMs: 1500,
  });
  await runtime.load();
  const hanging = thrown(() => score(runtime, '{"do": "sleep"}'));
  // the other worker answers meanwhile
  const during = await Promise.all([1, 2, 3].map(() => score(runtime, '{"do": "echo"}')));
  const pids = new Set(during.map((r) => (r as { pid: number }).pid));
  assert.equal(pids.size, 1);
  const err = await hanging;
  assert.equal(err.code, 'SCORING_TIMEOUT');
  assert.equal(err.status, 504);
  // both workers serve again: two slow-ish requests at once land on two processes
  const after = await Promise.all([1, 2, 3, 4].map(() => score(runtime, '{"do": "echo"}')));
  assert.ok(after.every((r) => typeof (r as { pid: number }).pid === 'number'));
});

test('when the script prints a lot then every line reaches the log and the answer is intact', async (t) => {
  const { runtime, logs } = pythonRuntime(t, { entryScript: join(SCRIPTS, 'misbehave.py') });
  await runtime.load();
  assert.deepEqual(await score(runtime, '{"do": "print", "lines": 20000}'), { printed: 20000 });
  const stdoutLines = logs
    .entries()
    .filter((e) => e.stream === 'stdout' && /^line \d+ x+$/.test(String(e.msg)));
  assert.equal(stdoutLines.length, 20000);
  const long = logs.entries().find((e) => e.stream === 'stderr' && String(e.msg).startsWith('eee'));
  assert.ok(long, 'the long stderr line is logged');
  assert.match(String(long.msg), /more characters cut/);
  assert.equal(((await score(runtime, '{"do": "echo"}')) as { calls: number }).calls, 2);
});

test('when the body is application/octet-stream then run receives the exact bytes', async (t) => {
  const { runtime } = pythonRuntime(t, { entryScript: join(SCRIPTS, 'misbehave.py') });
  await runtime.load();
  const bytes = Buffer.from([0, 255, 10, 13, 0x80, 1, 2, 3]);
  const result = (await score(runtime, bytes)) as { type: string; length: number; first: number[] };
  assert.equal(result.type, 'bytes');
  assert.equal(result.length, 8);
  assert.deepEqual(result.first, [0, 255, 10, 13]);
  const big = Buffer.alloc(3 * 1024 * 1024, 7);
  assert.equal(((await score(runtime, big)) as { length: number }).length, big.length);
});

test('when run returns numpy, pandas and other values then they are serialized to JSON', async (t) => {
  const { runtime } = pythonRuntime(t, { entryScript: join(SCRIPTS, 'returns_types.py') });
  await runtime.load();
  assert.deepEqual(await score(runtime, '{"what": "ndarray"}'), [
    [1.5, 2],
    [3, null],
  ]);
  assert.equal(await score(runtime, '{"what": "scalar"}'), 0.25);
  assert.equal(await score(runtime, '{"what": "int64"}'), 7);
  assert.deepEqual(await score(runtime, '{"what": "frame"}'), [
    { a: 1, b: 'x' },
    { a: 2, b: 'y' },
  ]);
  assert.deepEqual(await score(runtime, '{"what": "mixed"}'), {
    when: '2020-01-02',
    arr: [0, 1, 2],
    t: [1, 2],
  });
  const err = await thrown(() => score(runtime, '{"what": "object"}'));
  assert.equal(err.code, 'SCORING_FAILED');
  assert.match(err.message, /cannot be turned into JSON/);
});

test('when run is decorated with pandas and standard types then fields are converted and the schema describes them', async (t) => {
  const { runtime } = pythonRuntime(t, { entryScript: join(SCRIPTS, 'typed_inputs.py') });
  await runtime.load();
  const result = await score(
    runtime,
    JSON.stringify({
      frame: [
        { age: 41, income: 100, city: 'Pisa' },
        { age: 23, income: 50.5, city: 'Bari' },
      ],
      scale: 2,
      options: { tag: 'y', weights: [0.5, 0.5] },
    }),
  );
  assert.deepEqual(result, {
    rows: 2,
    total: 301,
    types: ['int64', 'float64', 'object'],
    weights: 'ndarray',
  });
  const missing = await thrown(() => score(runtime, '{"frame": []}'));
  assert.equal(missing.code, 'BAD_REQUEST');
  assert.match(missing.message, /lacks the field\(s\) scale/);
  const schema = runtime.schema() as unknown as JsonTree;
  assert.deepEqual(schema.input.required, ['frame', 'scale']);
  assert.equal(schema.input.properties.frame.type, 'array');
  assert.deepEqual(Object.keys(schema.input.properties.frame.items.properties), ['age', 'income', 'city']);
  assert.equal(schema.input.properties.frame.items.properties.city.type, 'string');
  assert.deepEqual(schema.input.properties.scale, { type: 'number', format: 'double', example: 2 });
  assert.equal(schema.input.properties.options.properties.weights.type, 'array');
  assert.deepEqual(schema.input.example.frame, [{ age: 30, income: 1200.5, city: 'Rome' }]);
  assert.equal(schema.output.type, 'object');
});

test('when a script uses only standard types then numpy and pandas are never imported', async (t) => {
  const { runtime } = pythonRuntime(t, { entryScript: join(SCRIPTS, 'lazy_imports.py') });
  await runtime.load();
  assert.deepEqual(await score(runtime, '{"text": "hello"}'), { length: 5, heavy: [] });
});

test('when Model.get_model_path is asked by model name, version or file name then it resolves to the served files', async (t) => {
  const dir = tempDir(t);
  const single = join(dir, 'single');
  const multi = join(dir, 'multi');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(single);
  mkdirSync(join(multi, 'sub'), { recursive: true });
  writeFileSync(join(single, 'model.pkl'), 'x');
  writeFileSync(join(multi, 'a.bin'), 'a');
  writeFileSync(join(multi, 'sub', 'vocab.txt'), 'v');
  const single2 = join(dir, 'single2');
  mkdirSync(single2);
  copyFileSync(join(single, 'model.pkl'), join(single2, 'model.pkl'));
  const { runtime } = pythonRuntime(t, {
    entryScript: join(SCRIPTS, 'model_paths.py'),
    models: [
      { name: 'single', version: 1, path: single },
      { name: 'single', version: 2, path: single2 },
      { name: 'multi', version: 5, path: multi },
    ],
  });
  await runtime.load();
  const ask = async (q: object) => (await score(runtime, JSON.stringify(q))) as Record<string, string>;
  assert.equal((await ask({ name: 'single' })).path, join(single2, 'model.pkl'));
  assert.equal((await ask({ name: 'single', version: 1 })).path, join(single, 'model.pkl'));
  assert.equal((await ask({ name: 'multi' })).path, multi);
  assert.equal((await ask({ name: 'vocab.txt' })).path, join(multi, 'sub', 'vocab.txt'));
  assert.equal((await ask({ name: 'sub/vocab.txt' })).path, join(multi, 'sub', 'vocab.txt'));
  assert.equal((await ask({ name: 'model.pkl', version: 1 })).path, join(single, 'model.pkl'));
  const missing = await ask({ name: 'other' });
  assert.equal(missing.error, 'ModelNotFoundException');
  assert.match(missing.message, /served: multi:5, single:2, single:1/);
  const noVersion = await ask({ name: 'single', version: 9 });
  assert.match(noVersion.message, /version 9 is not served/);
  const modelDir = (await ask({ name: 'single' })).modelDir;
  const { readlinkSync } = await import('node:fs');
  assert.equal(readlinkSync(join(modelDir, 'multi', '5')), multi);
});

test("when the inference config has a schema then it wins over the script's decorators, part by part", async (t) => {
  const { modelDir } = trainSeedModel(tempDir(t));
  const { runtime } = pythonRuntime(t, {
    entryScript: join(SEED_DIR, 'score.py'),
    models: [{ name: 'm', version: 1, path: modelDir }],
    schema: { output: { prediction: [1.5] } },
  });
  await runtime.load();
  const schema = runtime.schema() as unknown as JsonTree;
  assert.deepEqual(schema.output, { prediction: [1.5] });
  assert.equal(schema.input.properties.data.type, 'array');
});
