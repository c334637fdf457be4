import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseInferenceConfig } from '../../src/core/config/inference-config.js';
import { parseCondaFile } from '../../src/serving/runtimes/python/conda-file.js';
import { packagesToCheck } from '../../src/serving/runtimes/python/python-packages.js';
import { createPythonRuntime } from '../../src/serving/runtimes/python/python-runtime.js';
import type { ServedModel } from '../../src/serving/serve-spec.js';
import { tempDir } from '../helpers/temp-dir.js';
import {
  captureLogger,
  FIXTURES,
  SEED_DIR,
  SYSTEM_PYTHON,
  score,
  thrown,
  trainSeedModel,
} from './python-test-kit.js';

const ENV_FIXTURES = join(FIXTURES, 'env');

test("when the seed's conda file is read then Python's version and the packages to check come out", () => {
  const env = parseCondaFile(readFileSync(join(SEED_DIR, 'myenv.yml'), 'utf8'), 'myenv.yml');
  assert.equal(env.pythonVersion, '3.6.2');
  assert.deepEqual(
    env.requirements.map((r) => [r.name, r.extras, r.from]),
    [
      ['azureml-defaults', [], 'pip'],
      ['scikit-learn', [], 'pip'],
      ['inference-schema', ['numpy-support'], 'pip'],
    ],
  );
  const { checks } = packagesToCheck(env.requirements);
  // azureml-defaults and inference-schema are Berth's own; the numpy-support extra needs numpy
  assert.deepEqual(checks, [
    { name: 'scikit-learn', imports: ['sklearn'] },
    { name: 'numpy', imports: ['numpy'] },
  ]);
});

test('when conda entries carry channels, pins and build strings then pip specs and pins are derived', () => {
  const env = parseCondaFile(
    [
      'dependencies:',
      '  - conda-forge::numpy=1.24.2=py311h_0',
      '  - pandas>=1.5',
      '  - pillow==9.4.0',
      '  - mkl',
      '  - pip',
      '  - pip:',
      '    - opencv-python-headless==4.8.0.76 ; python_version > "3"',
      '    - --extra-index-url https://example.invalid/simple',
      '    - git+https://example.invalid/repo.git',
    ].join('\n'),
    'env.yml',
  );
  assert.deepEqual(
    env.requirements.map((r) => [r.name, r.pipSpec, r.pinned]),
    [
      ['numpy', 'numpy==1.24.2.*', '1.24.2'],
      ['pandas', 'pandas>=1.5', undefined],
      ['pillow', 'pillow==9.4.0', '9.4.0'],
      ['mkl', 'mkl', undefined],
      ['pip', 'pip', undefined],
      ['opencv-python-headless', 'opencv-python-headless==4.8.0.76', '4.8.0.76'],
    ],
  );
  assert.equal(env.skipped.length, 2);
  const { checks } = packagesToCheck(env.requirements);
  assert.deepEqual(
    checks.map((c) => [c.name, c.imports]),
    [
      ['numpy', ['numpy']],
      ['pandas', ['pandas']],
      ['pillow', ['PIL']],
      ['opencv-python-headless', ['cv2']],
    ],
  );
});

test('when a conda file is not YAML then INVALID_CONFIG says so', async () => {
  const err = await thrown(async () => parseCondaFile('dependencies: [a, b', 'broken.yml'));
  assert.equal(err.code, 'INVALID_CONFIG');
  assert.equal(err.status, 400);
  assert.match(err.message, /broken\.yml is not valid YAML/);
});

function runtimeFor(
  t: { after(fn: () => unknown): void },
  script: string,
  condaFile: string,
  cacheDir: string,
  env: NodeJS.ProcessEnv = process.env,
  models: ServedModel[] = [],
) {
  const logs = captureLogger();
  const config = parseInferenceConfig(
    { runtime: 'python', entryScript: script, condaFile, pythonInterpreter: SYSTEM_PYTHON },
    ENV_FIXTURES,
  );
  const runtime = createPythonRuntime({
    config,
    models,
    log: logs.log,
    limits: { scoringTimeoutMs: 30_000, initTimeoutMs: 60_000 },
    pythonEnvCacheDir: cacheDir,
    env,
  });
  t.after(() => runtime.close());
  return { runtime, logs };
}

test('when every listed package is importable then the interpreter is used as is and no environment is built', async (t) => {
  const cache = tempDir(t);
  const { modelDir } = trainSeedModel(tempDir(t));
  const models = [{ name: 'sklearn_regression_model.pkl', version: 1, path: modelDir }];
  const { runtime, logs } = runtimeFor(
    t,
    join(SEED_DIR, 'score.py'),
    join(SEED_DIR, 'myenv.yml'),
    cache,
    process.env,
    models,
  );
  await runtime.load();
  assert.deepEqual(readdirSync(cache), []);
  assert.match(logs.text(), /asks for Python 3\.6\.2; the workers run Python 3\.11/);
});

test('when a listed package is missing and no index has it then load fails with PYTHON_PACKAGES_MISSING naming it', async (t) => {
  const cache = tempDir(t);
  writeFileSync(join(cache, 'keep'), '');
  const { runtime } = runtimeFor(
    t,
    join(ENV_FIXTURES, 'uses_demo_pkg.py'),
    join(ENV_FIXTURES, 'needs_missing_pkg.yml'),
    cache,
    {
      ...process.env,
      PIP_FIND_LINKS: tempDir(t),
    },
  );
  const err = await thrown(() => runtime.load());
  assert.equal(err.code, 'PYTHON_PACKAGES_MISSING');
  assert.equal(err.status, 500);
  assert.match(err.message, /needs_missing_pkg\.yml are not importable by \/usr\/bin\/python3/);
  assert.match(err.message, /: berth-surely-missing-pkg-xyz\.$/);
  assert.match(err.hint ?? '', /apt-get install python3-berth-surely-missing-pkg-xyz/);
  assert.match(err.hint ?? '', /PIP_INDEX_URL/);
  assert.deepEqual(err.details?.missing, ['berth-surely-missing-pkg-xyz']);
  // nothing half-built is left behind
  assert.deepEqual(readdirSync(cache), ['keep']);
});

test('when a missing package is on a reachable index then a venv with system packages is built, used and reused', async (t) => {
  const wheels = tempDir(t);
  execFileSync(SYSTEM_PYTHON, [join(ENV_FIXTURES, 'make_wheel.py'), wheels]);
  const cache = tempDir(t);
  const env = { ...process.env, PIP_FIND_LINKS: wheels };
  const script = join(ENV_FIXTURES, 'uses_demo_pkg.py');
  const condaFile = join(ENV_FIXTURES, 'needs_demo_pkg.yml');
  const first = runtimeFor(t, script, condaFile, cache, env);
  await first.runtime.load();
  const venvs = readdirSync(cache);
  assert.equal(venvs.length, 1);
  assert.match(venvs[0], /^py-[0-9a-f]{16}$/);
  const answer = (await score(first.runtime, '{}')) as { value: number; prefix: string; numpy: string };
  assert.equal(answer.value, 42);
  assert.equal(answer.prefix, join(cache, venvs[0]));
  assert.ok(answer.numpy, 'system site packages stay visible');
  assert.ok(existsSync(join(cache, venvs[0], '.berth-env.json')));

  const second = runtimeFor(t, script, condaFile, cache, env);
  await second.runtime.load();
  assert.match(second.logs.text(), /Using the cached Python environment/);
  assert.equal(((await score(second.runtime, '{}')) as { value: number }).value, 42);
});
