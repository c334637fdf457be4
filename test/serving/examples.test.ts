import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadDeploymentConfig } from '../../src/core/config/deployment-config.js';
import { loadInferenceConfig } from '../../src/core/config/inference-config.js';
import { startScoring } from './scoring-harness.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));

test('when the shipped iris example is served with the example configs then it returns class probabilities', async (t) => {
  const config = loadInferenceConfig(`${EXAMPLES}inferenceconfig.json`);
  assert.equal(config.runtime, 'onnx');
  assert.equal(loadDeploymentConfig(`${EXAMPLES}deploymentconfig.json`).computeType, 'local');
  const h = await startScoring({
    config,
    models: [{ name: 'iris', version: 1, path: `${EXAMPLES}models/iris` }],
  });
  t.after(() => h.close());
  const res = await h.post('/score', {
    data: [
      [5.1, 3.5, 1.4, 0.2],
      [6.7, 3.0, 5.2, 2.3],
    ],
  });
  assert.equal(res.status, 200);
  const out = (await res.json()) as number[][];
  assert.equal(out.length, 2);
  for (const row of out) {
    assert.equal(row.length, 3);
    assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5);
  }
  assert.equal(out[0].indexOf(Math.max(...out[0])), 0, 'a short-petal flower is setosa');
  assert.equal(out[1].indexOf(Math.max(...out[1])), 2, 'a long-petal flower is virginica');
});

test('when the echo example entry script is served then it answers its input and the model file name', async (t) => {
  const config = loadInferenceConfig(`${EXAMPLES}echo/inferenceconfig.json`);
  const h = await startScoring({
    config,
    models: [{ name: 'iris', version: 1, path: `${EXAMPLES}models/iris` }],
  });
  t.after(() => h.close());
  const res = await h.post('/score', { data: [[1, 2, 3, 4]] });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { data: [[1, 2, 3, 4]], modelFile: 'model.onnx' });
});
