import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadDeploymentConfig, parseDeploymentConfig } from '../../src/core/config/deployment-config.js';
import { loadInferenceConfig, parseInferenceConfig } from '../../src/core/config/inference-config.js';
import { BerthError } from '../../src/core/errors.js';
import { parseModelRef } from '../../src/core/model-ref.js';
import { tempDir } from '../helpers/temp-dir.js';

const fixtures = new URL('../fixtures/configs/', import.meta.url);

test('when the sample config files are loaded then each validates', () => {
  const dir = new URL(fixtures).pathname;
  const files = readdirSync(dir);
  assert.ok(files.length >= 2);
  for (const f of files) {
    if (f.startsWith('inference')) assert.ok(loadInferenceConfig(join(dir, f)).runtime);
    if (f.startsWith('deployment')) assert.ok(loadDeploymentConfig(join(dir, f)).computeType);
  }
});

test('when an inference config has an unknown key then INVALID_CONFIG names it', () => {
  assert.throws(
    () => parseInferenceConfig({ runtime: 'node', entryScript: 'a.js', entry_script: 'x' }, '/tmp'),
    (e: unknown) =>
      e instanceof BerthError && e.code === 'INVALID_CONFIG' && /unknown key "entry_script"/.test(e.message),
  );
});

test('when a deployment config key has the wrong type then the message names its path and expectation', () => {
  assert.throws(
    () => parseDeploymentConfig({ containerResourceRequirements: { cpu: 'lots' } }),
    (e: unknown) =>
      e instanceof BerthError &&
      e.code === 'INVALID_CONFIG' &&
      /containerResourceRequirements\.cpu" must be number/.test(e.message),
  );
});

test('when a config file is not JSON then INVALID_CONFIG says so, and a missing one is PATH_NOT_FOUND', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'ic.json'), '{"runtime": "onnx",}');
  assert.throws(
    () => loadInferenceConfig(join(dir, 'ic.json')),
    (e: unknown) => e instanceof BerthError && e.code === 'INVALID_CONFIG',
  );
  assert.throws(
    () => loadInferenceConfig(join(dir, 'nope.json')),
    (e: unknown) => e instanceof BerthError && e.code === 'PATH_NOT_FOUND',
  );
});

test('when the runtime is absent then it is inferred from the entry script', () => {
  assert.equal(parseInferenceConfig({ entryScript: 'score.py' }, '/x').runtime, 'python');
  assert.equal(parseInferenceConfig({ entryScript: 'score.ts' }, '/x').runtime, 'node');
  assert.equal(parseInferenceConfig({}, '/x').runtime, 'onnx');
  assert.equal(
    parseInferenceConfig({ entryScript: 'a/s.js', sourceDirectory: 'src' }, '/x').entryScript,
    '/x/src/a/s.js',
  );
});

test('when model references are parsed then the three forms are told apart and bad ones rejected', () => {
  assert.deepEqual(parseModelRef('iris'), { kind: 'latest', name: 'iris' });
  assert.deepEqual(parseModelRef('iris:3'), { kind: 'version', name: 'iris', version: 3 });
  assert.deepEqual(parseModelRef('iris@production'), { kind: 'alias', name: 'iris', alias: 'production' });
  for (const bad of ['iris:0', 'iris:x', ':3', 'ir is', 'a@', '-x']) {
    assert.throws(
      () => parseModelRef(bad),
      (e: unknown) => e instanceof BerthError && e.code === 'INVALID_MODEL_REF',
      bad,
    );
  }
});
