// Packaging figures: time to package the ONNX MLP service (784-256-128-10) and the package's size
// next to the model file's. Run: node --import tsx bench/package.bench.ts [--install]
// (--install also times `npm ci --omit=dev` in a fresh copy and reports node_modules' size).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseInferenceConfig } from '../src/core/config/inference-config.js';
import { buildServicePackage } from '../src/deploy/packaging/build-service-package.js';
import { buildMlpModel } from '../test/fixtures/models/onnx-model-builder.js';

const RUNS = 3;
const work = mkdtempSync(join(tmpdir(), 'berth-package-bench-'));
const modelDir = join(work, 'mlp');
mkdirSync(modelDir);
writeFileSync(join(modelDir, 'mlp.onnx'), buildMlpModel());
const modelBytes = statSync(join(modelDir, 'mlp.onnx')).size;
const inferenceConfig = parseInferenceConfig({ runtime: 'onnx' }, work);

function du(dir: string): number {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .reduce((n, e) => n + statSync(join(e.parentPath, e.name)).size, 0);
}
const mb = (n: number) => (n / 1024 / 1024).toFixed(2);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  const folderMs: number[] = [];
  const tarMs: number[] = [];
  let folder = '';
  let folderBytes = 0;
  let tarBytes = 0;
  for (let i = 0; i < RUNS; i++) {
    const f = await buildServicePackage({
      name: 'mlp',
      models: [{ name: 'mlp', version: 1, path: modelDir }],
      inferenceConfig,
      outDir: join(work, `folder-${i}`),
    });
    folderMs.push(f.durationMs);
    folder = f.path;
    folderBytes = f.size;
    const t = await buildServicePackage({
      name: 'mlp',
      models: [{ name: 'mlp', version: 1, path: modelDir }],
      inferenceConfig,
      outDir: join(work, `tar-${i}`),
      tar: true,
    });
    tarMs.push(t.durationMs);
    tarBytes = t.size;
  }
  console.log(`model file (mlp.onnx, 784-256-128-10):  ${mb(modelBytes)} MB`);
  console.log(
    `package folder: ${mb(folderBytes)} MB = ${(folderBytes / modelBytes).toFixed(2)} x model; median ${median(folderMs)} ms (runs ${folderMs.join(', ')} ms)`,
  );
  console.log(
    `package .tar.gz: ${mb(tarBytes)} MB = ${(tarBytes / modelBytes).toFixed(2)} x model; median ${median(tarMs)} ms (runs ${tarMs.join(', ')} ms)`,
  );
  const vendor = join(folder, 'vendor');
  const tgz = readdirSync(vendor)[0];
  console.log(`  of which the packed Berth runtime (${tgz}): ${mb(statSync(join(vendor, tgz)).size)} MB`);
  if (process.argv.includes('--install')) {
    const fresh = mkdtempSync(join(tmpdir(), 'berth-package-install-'));
    spawnSync('cp', ['-r', `${folder}/.`, fresh]);
    const t0 = Date.now();
    const r = spawnSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund'], {
      cwd: fresh,
      encoding: 'utf8',
    });
    const ms = Date.now() - t0;
    console.log(
      `npm ci --omit=dev in a fresh copy: exit ${r.status}, ${ms} ms; node_modules ${mb(du(join(fresh, 'node_modules')))} MB (onnxruntime-node ${mb(du(join(fresh, 'node_modules', 'onnxruntime-node')))} MB)`,
    );
    rmSync(fresh, { recursive: true, force: true });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
