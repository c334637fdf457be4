import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BerthError } from '../../src/core/errors.js';
import { createRuntime } from '../../src/serving/runtimes/create-runtime.js';
import {
  buildDoubleModel,
  buildLinearModel,
  buildMlpModel,
  buildTypedModel,
  LINEAR_BIAS,
  LINEAR_WEIGHTS,
  writeModel,
} from '../fixtures/models/onnx-model-builder.js';
import { tempDir } from '../helpers/temp-dir.js';
import { errorOf, type Harness, quietLogger, startScoring } from './scoring-harness.js';

type TestContext = { after(fn: () => Promise<void> | void): void };

async function serveModel(
  t: TestContext,
  name: string,
  bytes: Uint8Array,
  keys?: string[],
): Promise<Harness> {
  const dir = tempDir(t);
  writeModel(dir, 'model.onnx', bytes);
  const h = await startScoring({
    config: { runtime: 'onnx' },
    models: [{ name, version: 2, path: dir }],
    keys,
    name: `${name}-svc`,
  });
  t.after(() => h.close());
  return h;
}

function linear(row: number[]): number {
  return row.reduce((sum, x, i) => sum + x * LINEAR_WEIGHTS[i], LINEAR_BIAS);
}

async function v2Error(res: Response): Promise<{ status: number; error: string }> {
  const body = (await res.json()) as { error: unknown };
  assert.equal(typeof body.error, 'string', `V2 errors are {"error": "<message>"}: ${JSON.stringify(body)}`);
  return { status: res.status, error: body.error as string };
}

test('when a linear ONNX model is scored with {"data"} then the answer is one prediction per row', async (t) => {
  const h = await serveModel(t, 'linear', buildLinearModel());
  const rows = [
    [1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0.5, -1, 2, 0, 0, 0, 0, 0, 0, 3],
  ];
  const res = await h.post('/score', { data: rows });
  assert.equal(res.status, 200);
  const out = (await res.json()) as number[];
  assert.equal(out.length, 2);
  for (const [i, y] of out.entries())
    assert.ok(Math.abs(y - linear(rows[i])) < 1e-5, `${y} vs ${linear(rows[i])}`);
});

test('when the MLP is scored then each row gets 10 probabilities summing to 1', async (t) => {
  const h = await serveModel(t, 'mlp', buildMlpModel());
  const row = Array.from({ length: 784 }, (_, i) => (i % 17) / 17);
  const res = await h.post('/score', { data: [row, row] });
  assert.equal(res.status, 200);
  const out = (await res.json()) as number[][];
  assert.equal(out.length, 2);
  assert.equal(out[0].length, 10);
  assert.ok(Math.abs(out[0].reduce((a, b) => a + b, 0) - 1) < 1e-4);
  assert.deepEqual(out[0], out[1]);
});

test('when a model is scored with {"inputs": {name: ...}} then it answers like {"data"}', async (t) => {
  const h = await serveModel(t, 'linear', buildLinearModel());
  const row = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const viaData = await (await h.post('/score', { data: [row] })).json();
  const viaInputs = await (await h.post('/score', { inputs: { X: [row] } })).json();
  assert.deepEqual(viaInputs, viaData);
});

test('when a tensor value has the wrong type then 400 BAD_REQUEST names its path', async (t) => {
  const h = await serveModel(t, 'linear', buildLinearModel());
  const err = await errorOf(await h.post('/score', { data: [[1, 2, 3, 'four', 5, 6, 7, 8, 9, 10]] }));
  assert.equal(err.status, 400);
  assert.equal(err.code, 'BAD_REQUEST');
  assert.match(err.message, /data\[0\]\[3\] must be a number/);
});

test('when the shape does not match the model then 400 BAD_REQUEST says what was expected', async (t) => {
  const h = await serveModel(t, 'linear', buildLinearModel());
  const wrongWidth = await errorOf(await h.post('/score', { data: [[1, 2, 3]] }));
  assert.equal(wrongWidth.status, 400);
  assert.equal(wrongWidth.code, 'BAD_REQUEST');
  assert.match(wrongWidth.message, /\[N, 10\]/);
  const flat = await errorOf(await h.post('/score', { data: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }));
  assert.equal(flat.status, 400);
  assert.match(flat.message, /2-D array/);
  const ragged = await errorOf(
    await h.post('/score', {
      data: [
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        [1, 2],
      ],
    }),
  );
  assert.equal(ragged.status, 400);
  assert.match(ragged.message, /data\[1\]/);
  const neither = await errorOf(await h.post('/score', { rows: [] }));
  assert.equal(neither.status, 400);
  assert.equal(neither.code, 'BAD_REQUEST');
  const unknown = await errorOf(await h.post('/score', { inputs: { Z: [[1]] } }));
  assert.equal(unknown.status, 400);
  assert.match(unknown.message, /Unknown input "inputs.Z"/);
});

test('when a multi-input model gets {"data"} then 400 asks for {"inputs"}, and {"inputs"} scores typed tensors', async (t) => {
  const h = await serveModel(t, 'typed', buildTypedModel());
  const err = await errorOf(await h.post('/score', { data: [[1, 2, 3]] }));
  assert.equal(err.status, 400);
  assert.match(err.message, /"inputs"/);
  const res = await h.post('/score', {
    inputs: { ids: [[1, 2, 3]], flags: [[true, false, true]], text: ['a', 'b'] },
  });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {
    ids_plus_one: [[2, 3, 4]],
    flags_not: [[false, true, false]],
    text_out: ['a', 'b'],
  });
  const badInt = await errorOf(
    await h.post('/score', { inputs: { ids: [[1.5, 2, 3]], flags: [[true, false, true]], text: ['a'] } }),
  );
  assert.equal(badInt.status, 400);
  assert.match(badInt.message, /inputs\.ids\[0\]\[0\] must be an integer/);
});

test('when an ONNX model is served then swagger.json is generated from its metadata', async (t) => {
  const h = await serveModel(t, 'linear', buildLinearModel());
  const doc = (await (await fetch(`${h.url}/swagger.json`)).json()) as {
    paths: {
      '/score': {
        post: {
          'x-tensors': unknown;
          requestBody: { content: Record<string, { schema: { properties: { data: unknown } } }> };
        };
      };
    };
    components: { schemas: { ServiceOutput: unknown } };
  };
  const input = doc.paths['/score'].post.requestBody.content['application/json'].schema;
  assert.deepEqual(input.properties.data, {
    type: 'array',
    items: { type: 'array', items: { type: 'number', format: 'float' }, minItems: 10, maxItems: 10 },
  });
  assert.deepEqual(doc.components.schemas.ServiceOutput, {
    type: 'array',
    items: { type: 'number', format: 'float' },
  });
  assert.deepEqual(doc.paths['/score'].post['x-tensors'], {
    inputs: [{ name: 'X', datatype: 'FP32', shape: [-1, 10] }],
    outputs: [{ name: 'Y', datatype: 'FP32', shape: [-1, 1] }],
  });
});

test('when V2 server and model metadata are asked then they follow the Open Inference Protocol', async (t) => {
  const h = await serveModel(t, 'typed', buildTypedModel());
  const server = (await (await fetch(`${h.url}/v2`)).json()) as {
    name: string;
    version: string;
    extensions: unknown[];
  };
  assert.equal(server.name, 'berth');
  assert.equal(typeof server.version, 'string');
  assert.deepEqual(server.extensions, []);
  assert.equal((await fetch(`${h.url}/v2/health/live`)).status, 200);
  assert.equal((await fetch(`${h.url}/v2/health/ready`)).status, 200);
  const meta = await (await fetch(`${h.url}/v2/models/typed`)).json();
  assert.deepEqual(meta, {
    name: 'typed',
    versions: ['2'],
    platform: 'onnxruntime_onnx',
    inputs: [
      { name: 'ids', datatype: 'INT64', shape: [-1, 3] },
      { name: 'flags', datatype: 'BOOL', shape: [-1, 3] },
      { name: 'text', datatype: 'BYTES', shape: [-1] },
    ],
    outputs: [
      { name: 'ids_plus_one', datatype: 'INT64', shape: [-1, 3] },
      { name: 'flags_not', datatype: 'BOOL', shape: [-1, 3] },
      { name: 'text_out', datatype: 'BYTES', shape: [-1] },
    ],
  });
  assert.deepEqual(await (await fetch(`${h.url}/v2/models/typed/versions/2`)).json(), meta);
  const ready = await fetch(`${h.url}/v2/models/typed/ready`);
  assert.equal(ready.status, 200);
  const unknown = await v2Error(await fetch(`${h.url}/v2/models/nope`));
  assert.equal(unknown.status, 404);
  const badVersion = await v2Error(await fetch(`${h.url}/v2/models/typed/versions/9`));
  assert.equal(badVersion.status, 404);
});

test('when V2 infer gets INT64, BOOL and BYTES tensors then it answers typed output tensors', async (t) => {
  const h = await serveModel(t, 'typed', buildTypedModel());
  const res = await h.post('/v2/models/typed/infer', {
    id: 'r1',
    inputs: [
      { name: 'ids', shape: [2, 3], datatype: 'INT64', data: [1, 2, 3, 4, 5, 6] },
      {
        name: 'flags',
        shape: [2, 3],
        datatype: 'BOOL',
        data: [
          [true, false, true],
          [false, false, true],
        ],
      },
      { name: 'text', shape: [1], datatype: 'BYTES', data: ['hello'] },
    ],
  });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {
    model_name: 'typed',
    model_version: '2',
    id: 'r1',
    outputs: [
      { name: 'ids_plus_one', datatype: 'INT64', shape: [2, 3], data: [2, 3, 4, 5, 6, 7] },
      { name: 'flags_not', datatype: 'BOOL', shape: [2, 3], data: [false, true, false, true, true, false] },
      { name: 'text_out', datatype: 'BYTES', shape: [1], data: ['hello'] },
    ],
  });
  const some = await h.post('/v2/models/typed/versions/2/infer', {
    inputs: [
      { name: 'ids', shape: [1, 3], datatype: 'INT64', data: [0, 0, 0] },
      { name: 'flags', shape: [1, 3], datatype: 'BOOL', data: [true, true, true] },
      { name: 'text', shape: [1], datatype: 'BYTES', data: ['x'] },
    ],
    outputs: [{ name: 'flags_not' }],
  });
  const body = (await some.json()) as { outputs: { name: string; data: unknown[] }[] };
  assert.deepEqual(
    body.outputs.map((o) => [o.name, o.data]),
    [['flags_not', [false, false, false]]],
  );
});

test('when V2 infer gets FP32 and FP64 tensors then the values are computed', async (t) => {
  const lin = await serveModel(t, 'linear', buildLinearModel());
  const row = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
  const res = await lin.post('/v2/models/linear/infer', {
    inputs: [{ name: 'X', shape: [1, 10], datatype: 'FP32', data: row }],
  });
  assert.equal(res.status, 200);
  const out = (await res.json()) as {
    outputs: { name: string; datatype: string; shape: number[]; data: number[] }[];
  };
  assert.equal(out.outputs[0].datatype, 'FP32');
  assert.deepEqual(out.outputs[0].shape, [1, 1]);
  assert.ok(Math.abs(out.outputs[0].data[0] - linear(row)) < 1e-5);
  const dbl = await serveModel(t, 'double', buildDoubleModel());
  const res2 = await dbl.post('/v2/models/double/infer', {
    inputs: [{ name: 'X', shape: [2, 2], datatype: 'FP64', data: [0.1, 0.2, 0.3, 0.4] }],
  });
  const out2 = (await res2.json()) as { outputs: { datatype: string; data: number[] }[] };
  assert.equal(out2.outputs[0].datatype, 'FP64');
  assert.deepEqual(out2.outputs[0].data, [0.2, 0.4, 0.6, 0.8]);
});

test('when V2 infer names an unknown model, input or output then 404 / 400 with {"error": message}', async (t) => {
  const h = await serveModel(t, 'linear', buildLinearModel());
  const tensor = { name: 'X', shape: [1, 10], datatype: 'FP32', data: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] };
  const model = await v2Error(await h.post('/v2/models/other/infer', { inputs: [tensor] }));
  assert.equal(model.status, 404);
  assert.match(model.error, /other/);
  const input = await v2Error(
    await h.post('/v2/models/linear/infer', { inputs: [{ ...tensor, name: 'Q' }] }),
  );
  assert.equal(input.status, 400);
  assert.match(input.error, /Unknown input "Q"/);
  const output = await v2Error(
    await h.post('/v2/models/linear/infer', { inputs: [tensor], outputs: [{ name: 'Z' }] }),
  );
  assert.equal(output.status, 400);
  assert.match(output.error, /Unknown output "Z"/);
});

test('when a V2 tensor data length does not match its shape then 400', async (t) => {
  const h = await serveModel(t, 'linear', buildLinearModel());
  const res = await v2Error(
    await h.post('/v2/models/linear/infer', {
      inputs: [{ name: 'X', shape: [2, 10], datatype: 'FP32', data: [1, 2, 3] }],
    }),
  );
  assert.equal(res.status, 400);
  assert.match(res.error, /needs 20 values, but "data" has 3/);
});

test('when a V2 tensor has the wrong datatype or values then 400', async (t) => {
  const h = await serveModel(t, 'linear', buildLinearModel());
  const data = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const type = await v2Error(
    await h.post('/v2/models/linear/infer', {
      inputs: [{ name: 'X', shape: [1, 10], datatype: 'INT64', data }],
    }),
  );
  assert.equal(type.status, 400);
  assert.match(type.error, /must be FP32, got INT64/);
  const values = await v2Error(
    await h.post('/v2/models/linear/infer', {
      inputs: [{ name: 'X', shape: [1, 10], datatype: 'FP32', data: [...data.slice(0, 9), 'ten'] }],
    }),
  );
  assert.equal(values.status, 400);
  assert.match(values.error, /data\[9\]/);
  const shape = await v2Error(
    await h.post('/v2/models/linear/infer', {
      inputs: [{ name: 'X', shape: [2, 5], datatype: 'FP32', data }],
    }),
  );
  assert.equal(shape.status, 400);
  assert.match(shape.error, /\[-1,10\]/);
  const malformed = await v2Error(await h.post('/v2/models/linear/infer', '{"inputs": ['));
  assert.equal(malformed.status, 400);
});

test('when V2 routes need a key then infer and metadata are 401 in V2 format and health stays open', async (t) => {
  const h = await serveModel(t, 'linear', buildLinearModel(), ['a-long-secret-key']);
  const infer = await v2Error(await h.post('/v2/models/linear/infer', { inputs: [] }));
  assert.equal(infer.status, 401);
  assert.equal((await fetch(`${h.url}/v2/models/linear`)).status, 401);
  assert.equal((await fetch(`${h.url}/v2/health/ready`)).status, 200);
  assert.equal((await fetch(`${h.url}/v2/models/linear/ready`)).status, 200);
  const ok = await fetch(`${h.url}/v2/models/linear`, {
    headers: { authorization: 'Bearer a-long-secret-key' },
  });
  assert.equal(ok.status, 200);
});

test('when the node runtime is called through V2 then inputs become named arrays and the result a tensor', async (t) => {
  const { nodeConfig } = await import('./scoring-harness.js');
  const dir = tempDir(t);
  const script = join(dir, 'sum.mjs');
  writeFileSync(
    script,
    'export function run(input) { return input.data.map((r) => r.reduce((a, b) => a + b, 0)); }\n',
  );
  const h = await startScoring({
    config: nodeConfig(script),
    models: [{ name: 'summer', version: 1, path: dir }],
  });
  t.after(() => h.close());
  const res = await h.post('/v2/models/summer/infer', {
    inputs: [{ name: 'data', shape: [2, 2], datatype: 'FP32', data: [1, 2, 3, 4.5] }],
  });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {
    model_name: 'summer',
    model_version: '1',
    outputs: [{ name: 'output0', shape: [2], datatype: 'FP64', data: [3, 7.5] }],
  });
});

test('when the model folder holds no .onnx file then load fails with INIT_FAILED', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'readme.txt'), 'no model here');
  const runtime = await createRuntime({
    config: { runtime: 'onnx' },
    models: [{ name: 'empty', version: 1, path: dir }],
    log: quietLogger(),
    limits: { scoringTimeoutMs: 1_000, initTimeoutMs: 1_000 },
  });
  await assert.rejects(
    runtime.load(),
    (e: unknown) => e instanceof BerthError && e.code === 'INIT_FAILED' && e.exitCode === 9,
  );
  const broken = tempDir(t);
  writeFileSync(join(broken, 'model.onnx'), 'not an onnx file');
  const runtime2 = await createRuntime({
    config: { runtime: 'onnx' },
    models: [{ name: 'broken', version: 1, path: broken }],
    log: quietLogger(),
    limits: { scoringTimeoutMs: 1_000, initTimeoutMs: 1_000 },
  });
  await assert.rejects(runtime2.load(), (e: unknown) => e instanceof BerthError && e.code === 'INIT_FAILED');
});
