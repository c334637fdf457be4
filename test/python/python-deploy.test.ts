import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ServiceView } from '../../src/deploy/service-view.js';
import { deployHarness, postJson } from '../deploy/deploy-fixtures.js';
import { type JsonTree, SCRIPTS, SEED_DIR, SYSTEM_PYTHON, trainSeedModel } from './python-test-kit.js';

const SEED_BODY = {
  data: [
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    [10, 9, 8, 7, 6, 5, 4, 3, 2, 1],
  ],
};

test("when the seed's scikit-learn example is deployed with berth model deploy then it gets Healthy and answers sklearn's prediction with a key", async (t) => {
  const h = deployHarness(t);
  const { modelDir, expected } = trainSeedModel(h.dir);
  const registered = await h.berth([
    'model',
    'register',
    '-n',
    'sklearn_regression_model.pkl',
    '-p',
    join(modelDir, 'sklearn_regression_model.pkl'),
  ]);
  assert.equal(registered.code, 0, registered.stderr);
  const code = join(h.dir, 'code');
  mkdirSync(code);
  copyFileSync(join(SEED_DIR, 'score.py'), join(code, 'score.py'));
  copyFileSync(join(SEED_DIR, 'myenv.yml'), join(code, 'myenv.yml'));
  const ic = h.json('inferenceconfig.json', {
    runtime: 'python',
    entryScript: 'score.py',
    sourceDirectory: 'code',
    condaFile: 'myenv.yml',
    pythonInterpreter: SYSTEM_PYTHON,
  });
  const dc = h.json('deploymentconfig.json', { computeType: 'local', authEnabled: true, numReplicas: 1 });
  const deploy = await h.berth([
    'model',
    'deploy',
    '-n',
    'seed-sklearn',
    '-m',
    'sklearn_regression_model.pkl:1',
    '--ic',
    ic,
    '--dc',
    dc,
  ]);
  assert.equal(deploy.code, 0, deploy.stdout + deploy.stderr);
  assert.match(deploy.stdout, /State:\s+Healthy/);

  const view = (await h.berth(['--json', 'service', 'show', 'seed-sklearn'])).json<ServiceView>();
  const keys = (await h.berth(['--json', 'service', 'keys', 'seed-sklearn'])).json<{ primaryKey: string }>();
  assert.equal((await postJson(view.scoringUri, SEED_BODY)).status, 401);
  const scored = await postJson(view.scoringUri, SEED_BODY, { authorization: `Bearer ${keys.primaryKey}` });
  assert.equal(scored.status, 200);
  const predictions = scored.body as number[];
  for (const [i, v] of predictions.entries())
    assert.ok(Math.abs(v - expected[i]) < 1e-6, `${v} vs ${expected[i]}`);
  const swagger = (await (await fetch(view.swaggerUri)).json()) as JsonTree;
  assert.equal(swagger.components.schemas.ServiceInput.properties.data.items.type, 'array');
  assert.equal(swagger.components.schemas.ServiceOutput.type, 'array');
});

test('when a deployed score.py raises in init then the deploy fails (exit 9) and the service logs hold the Python traceback', async (t) => {
  const h = deployHarness(t);
  const { modelDir } = trainSeedModel(h.dir);
  assert.equal((await h.berth(['model', 'register', '-n', 'm', '-p', modelDir])).code, 0);
  const ic = h.json('ic.json', {
    runtime: 'python',
    entryScript: 'init_raises.py',
    sourceDirectory: SCRIPTS,
    pythonInterpreter: SYSTEM_PYTHON,
  });
  const res = await h.berth(['model', 'deploy', '-n', 'broken-py', '-m', 'm:1', '--ic', ic]);
  assert.equal(res.code, 9, res.stdout + res.stderr);
  assert.match(res.stderr, /Code:\s+DEPLOYMENT_FAILED/);
  assert.match(res.stderr, /the model file is corrupt/);
  const logs = await h.berth(['service', 'logs', 'broken-py']);
  assert.equal(logs.code, 0);
  assert.match(logs.stdout, /Traceback \(most recent call last\)/);
  assert.match(logs.stdout, /RuntimeError: the model file is corrupt/);
});
