import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { extract } from 'tar';
import { parseDeploymentConfig } from '../../src/core/config/deployment-config.js';
import { parseInferenceConfig } from '../../src/core/config/inference-config.js';
import { BerthError } from '../../src/core/errors.js';
import { buildServicePackage } from '../../src/deploy/packaging/build-service-package.js';
import { buildLinearModel, LINEAR_BIAS, LINEAR_WEIGHTS } from '../fixtures/models/onnx-model-builder.js';
import { tempDir } from '../helpers/temp-dir.js';

const REPO = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');

function linearModelDir(dir: string): string {
  const m = join(dir, 'linear-model');
  mkdirSync(m, { recursive: true });
  writeFileSync(join(m, 'linear.onnx'), buildLinearModel());
  return m;
}

function run(
  cmd: string,
  args: string[],
  cwd: string,
  timeoutMs: number,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd,
      env: { ...process.env, BERTH_WORKSPACE: undefined },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

function allFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

test('when an ONNX service package is copied to a fresh folder then it installs from its own lockfile, starts and scores', async (t) => {
  const work = tempDir(t);
  const archive = await buildServicePackage({
    name: 'linear',
    models: [{ name: 'linear', version: 1, path: linearModelDir(work) }],
    inferenceConfig: parseInferenceConfig({ runtime: 'onnx' }, work),
    deploymentConfig: parseDeploymentConfig({ scoringTimeoutMs: 5000 }),
    outDir: join(work, 'linear-package'),
    tar: true,
  });
  assert.equal(archive.kind, 'tar');
  assert.match(archive.path, /linear-package\.tar\.gz$/);

  // A fresh folder outside the workspace and the repository, as a container build would see it.
  const fresh = tempDir(t, 'berth-package-run-');
  assert.ok(!fresh.startsWith(REPO) && fresh.startsWith(tmpdir()));
  await extract({ file: archive.path, cwd: fresh });
  const pkg = join(fresh, 'linear-package');
  for (const f of allFiles(pkg))
    assert.ok(!readFileSync(f, 'latin1').includes(REPO), `${f} mentions ${REPO}`);

  const ci = await run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund'], pkg, 240_000);
  assert.equal(ci.code, 0, ci.out);

  const spec = JSON.parse(readFileSync(join(pkg, 'serve.json'), 'utf8'));
  writeFileSync(join(pkg, 'serve.json'), JSON.stringify({ ...spec, host: '127.0.0.1', port: 0 }));
  const start = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).scripts.start;
  assert.equal(start, 'berth serve --spec serve.json');
  // As the Dockerfile's CMD runs it: the start command itself, PATH leading to node_modules/.bin.
  const [cmd, ...args] = start.split(' ');
  const server: ChildProcess = spawn(cmd, args, {
    cwd: pkg,
    detached: true,
    env: {
      ...process.env,
      BERTH_WORKSPACE: undefined,
      PATH: `${join(pkg, 'node_modules', '.bin')}:${process.env.PATH}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  server.stderr?.on('data', (d) => (log += d));
  const exited = new Promise<number | null>((r) => server.on('close', r));
  t.after(() => {
    if (server.exitCode === null && server.pid) process.kill(-server.pid, 'SIGKILL');
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "Listening on" within 60 s: ${log}`)), 60_000);
    let out = '';
    server.stdout?.on('data', (d) => {
      out += d;
      const m = out.match(/Listening on (http:\/\/[0-9.]+:[0-9]+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    server.on('close', () => reject(new Error(`server exited: ${out}${log}`)));
  });

  const x = Array.from({ length: 10 }, (_, i) => i / 10);
  const res = await fetch(`${url}/score`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ data: [x] }),
  });
  assert.equal(res.status, 200);
  const expected = LINEAR_BIAS + x.reduce((s, v, i) => s + v * LINEAR_WEIGHTS[i], 0);
  const body = (await res.json()) as unknown[];
  const y = [body].flat(3)[0] as number;
  assert.ok(Math.abs(y - expected) < 1e-4, `${JSON.stringify(body)} vs ${expected}`);
  assert.equal((await fetch(`${url}/health/ready`)).status, 200);

  server.kill('SIGTERM');
  assert.equal(await exited, 0, log);
});

test('when a node service is packaged then the folder holds code, models, a pinned lockfile, serve.json, Dockerfile and README', async (t) => {
  const work = tempDir(t);
  const src = join(work, 'src');
  mkdirSync(join(src, 'lib'), { recursive: true });
  mkdirSync(join(src, 'node_modules', 'junk'), { recursive: true });
  writeFileSync(
    join(src, 'score.js'),
    "import { f } from './lib/f.js';\nexport function init() {}\nexport function run(x) { return f(x); }\n",
  );
  writeFileSync(join(src, 'lib', 'f.js'), 'export const f = (x) => x;\n');
  writeFileSync(join(src, 'node_modules', 'junk', 'index.js'), '');
  writeFileSync(join(work, 'inferenceconfig.json'), '{}');
  const p = await buildServicePackage({
    models: [{ name: 'linear', version: 2, path: linearModelDir(work) }],
    inferenceConfig: parseInferenceConfig(
      {
        entryScript: 'score.js',
        sourceDirectory: 'src',
        dependencies: { 'is-number': '7.0.0' },
        baseImage: 'example.com/node:20',
      },
      work,
    ),
    outDir: join(work, 'out'),
  });
  const dir = p.path;
  assert.equal(p.kind, 'folder');
  assert.equal(p.modelBytes, statSync(join(work, 'linear-model', 'linear.onnx')).size);
  assert.ok(p.size > p.modelBytes);
  assert.deepEqual(readFileSync(join(dir, 'models/linear/2/linear.onnx')), Buffer.from(buildLinearModel()));
  assert.ok(readFileSync(join(dir, 'code/lib/f.js'), 'utf8').includes('export const f'));
  assert.throws(
    () => statSync(join(dir, 'code/node_modules')),
    'node_modules of the source folder are left out',
  );

  const pkgJson = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  assert.equal(pkgJson.dependencies['is-number'], '7.0.0');
  assert.match(pkgJson.dependencies.berth, /^file:vendor\/berth-[0-9.]+\.tgz$/);
  const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8'));
  assert.match(lock.packages['node_modules/berth'].integrity, /^sha512-/);
  assert.equal(lock.packages['node_modules/is-number'].version, '7.0.0');
  assert.equal(
    lock.packages['node_modules/better-sqlite3'],
    undefined,
    'the serving runtime leaves the SQLite store out',
  );

  const spec = JSON.parse(readFileSync(join(dir, 'serve.json'), 'utf8'));
  assert.deepEqual(spec.models, [{ name: 'linear', version: 2, path: 'models/linear/2' }]);
  assert.deepEqual(spec.inferenceConfig, {
    runtime: 'node',
    entryScript: 'score.js',
    sourceDirectory: 'code',
    dependencies: { 'is-number': '7.0.0' },
    baseImage: 'example.com/node:20',
  });
  const dockerfile = readFileSync(join(dir, 'Dockerfile'), 'utf8');
  assert.match(dockerfile, /^FROM example\.com\/node:20$/m);
  assert.match(dockerfile, /^RUN npm ci --omit=dev/m);
  assert.match(dockerfile, /^CMD \["berth", "serve", "--spec", "serve\.json"\]$/m);
  const readme = readFileSync(join(dir, 'README.md'), 'utf8');
  for (const word of [
    'docker build',
    'podman build',
    'buildah bud',
    'npm ci',
    'npx berth serve --spec serve.json',
  ]) {
    assert.ok(readme.includes(word), `README mentions ${word}`);
  }
  assert.match(readFileSync(join(dir, '.dockerignore'), 'utf8'), /node_modules/);
  const manifest = JSON.parse(readFileSync(join(dir, 'berth-package.json'), 'utf8'));
  assert.equal(manifest.models[0].files[0].path, 'linear.onnx');
  assert.match(manifest.models[0].sha256, /^[0-9a-f]{64}$/);
});

test('when a python service is packaged then the Dockerfile uses a Python-capable base and installs the conda packages', async (t) => {
  const work = tempDir(t);
  const src = join(work, 'src');
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, 'score.py'), 'def init():\n    pass\n\ndef run(raw):\n    return raw\n');
  writeFileSync(
    join(src, 'myenv.yml'),
    'name: env\ndependencies:\n  - python=3.11\n  - scikit-learn=1.2\n  - pip:\n    - azureml-defaults\n    - inference-schema[numpy-support]\n    - joblib\n    - lightgbm==4.0\n',
  );
  const p = await buildServicePackage({
    models: [{ name: 'ridge', version: 1, path: linearModelDir(work) }],
    inferenceConfig: parseInferenceConfig(
      { entryScript: 'score.py', sourceDirectory: 'src', condaFile: 'myenv.yml' },
      work,
    ),
    outDir: join(work, 'py'),
  });
  const dockerfile = readFileSync(join(p.path, 'Dockerfile'), 'utf8');
  assert.match(dockerfile, /^FROM node:20-bookworm$/m);
  assert.match(
    dockerfile,
    /apt-get install -y --no-install-recommends python3 python3-numpy python3-sklearn python3-joblib/,
  );
  assert.match(dockerfile, /pip3 install --no-cache-dir --break-system-packages lightgbm==4\.0/);
  assert.ok(!dockerfile.includes('azureml'), 'Berth provides the azureml compat modules');
  const spec = JSON.parse(readFileSync(join(p.path, 'serve.json'), 'utf8'));
  assert.equal(spec.inferenceConfig.entryScript, 'score.py');
  assert.equal(spec.inferenceConfig.condaFile, 'myenv.yml');
});

test('when the output folder exists already then packaging fails with INVALID_ARGUMENT (exit 2) and writes nothing', async (t) => {
  const work = tempDir(t);
  const out = join(work, 'taken');
  mkdirSync(out);
  writeFileSync(join(out, 'keep.txt'), 'mine');
  await assert.rejects(
    buildServicePackage({
      models: [{ name: 'linear', version: 1, path: linearModelDir(work) }],
      inferenceConfig: parseInferenceConfig({ runtime: 'onnx' }, work),
      outDir: out,
    }),
    (err) => {
      assert.ok(err instanceof BerthError);
      assert.equal(err.code, 'INVALID_ARGUMENT');
      assert.equal(err.exitCode, 2);
      return true;
    },
  );
  assert.deepEqual(readdirSync(out), ['keep.txt']);
  assert.deepEqual(readdirSync(work).sort(), ['linear-model', 'taken']);
});

test('when the entry script is missing then packaging fails with ENTRY_SCRIPT_NOT_FOUND (exit 2)', async (t) => {
  const work = tempDir(t);
  await assert.rejects(
    buildServicePackage({
      models: [{ name: 'linear', version: 1, path: linearModelDir(work) }],
      inferenceConfig: parseInferenceConfig({ entryScript: 'nope.js' }, work),
      outDir: join(work, 'out'),
    }),
    (err) => err instanceof BerthError && err.code === 'ENTRY_SCRIPT_NOT_FOUND' && err.exitCode === 2,
  );
});
