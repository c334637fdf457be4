/**
 * Registry figures (issue 2), measured side by side in one run, printed as ratios:
 *   1. registering a 200 MB file (whole `berth model register` process) vs `cp` + `sha256sum`;
 *   2. `berth model list --json` over 10,000 versions (whole process) vs `berth --version`;
 *   3. `berth model show NAME:VERSION` vs `berth --version`;
 *   4. `berth --version` vs `node -e 0`.
 * Medians of alternating runs. Uses dist/ through bin/berth.js: run `npm run build` first.
 * Env: BENCH_RUNS (CLI runs, default 15), BENCH_BIG_RUNS (200 MB runs, default 5).
 */
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelRegistry } from '../src/registry/model-registry.js';
import { openWorkspaceStores } from '../src/store/open-store.js';
import { median } from './bench-stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'berth.js');
const CLI_RUNS = Number(process.env.BENCH_RUNS ?? 15);
const BIG_RUNS = Number(process.env.BENCH_BIG_RUNS ?? 5);
const BIG_BYTES = 200 * 1000 * 1000; // 200 MB
const NAMES = 100;
const VERSIONS_PER_NAME = 100; // 10,000 versions

const work = mkdtempSync(join(tmpdir(), 'berth-bench-registry-'));
const started = Date.now();

function run(cmd: string, args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 30 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return ms;
}

const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
const ratioLine = (label: string, a: number, b: number, limit: number) =>
  `${label.padEnd(58)} ${(a / b).toFixed(2)}x  (${fmt(a)} vs ${fmt(b)}; target <= ${limit}x) ${a / b <= limit ? 'OK' : 'OVER'}`;

function makeBigFile(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.allocUnsafe(8 * 1024 * 1024);
  for (let written = 0; written < BIG_BYTES; written += chunk.length) {
    randomFillSync(chunk);
    writeSync(fd, chunk, 0, Math.min(chunk.length, BIG_BYTES - written));
  }
  closeSync(fd);
}

function benchBigRegistration(): { berth: number; baseline: number; baselineSync: number } {
  const src = join(work, 'big.bin');
  makeBigFile(src);
  const berth: number[] = [];
  const baseline: number[] = [];
  const baselineSync: number[] = [];
  for (let i = 0; i < BIG_RUNS; i++) {
    // New bytes each run, so every registration really stores a new 200 MB artifact.
    const fd = openSync(src, 'r+');
    writeSync(fd, Buffer.from(`run-${i}-${Date.now()}`), 0, undefined, 0);
    closeSync(fd);
    const dst = join(work, 'copy.bin');
    const ws = join(work, `ws-big-${i}`);
    run('sync', []);
    baseline.push(run('sh', ['-c', 'cp "$1" "$2" && sha256sum "$1" >/dev/null', 'sh', src, dst]));
    rmSync(dst, { force: true });
    run('sync', []);
    berth.push(
      run(process.execPath, [BIN, '--workspace', ws, 'model', 'register', '-n', 'big', '-p', src, '--json']),
    );
    rmSync(ws, { recursive: true, force: true });
    run('sync', []);
    baselineSync.push(
      run('sh', ['-c', 'cp "$1" "$2" && sync "$2" && sha256sum "$1" >/dev/null', 'sh', src, dst]),
    );
    rmSync(dst, { force: true });
  }
  rmSync(src, { force: true });
  return { berth: median(berth), baseline: median(baseline), baselineSync: median(baselineSync) };
}

async function seedWorkspace(dir: string): Promise<number> {
  const t0 = Date.now();
  const stores = openWorkspaceStores(dir);
  const registry = new ModelRegistry(stores);
  const files = join(work, 'small');
  mkdirSync(files, { recursive: true });
  for (let n = 0; n < NAMES; n++) {
    const file = join(files, `model-${n}.onnx`);
    writeFileSync(file, `small model ${n}\n`.repeat(64));
    for (let v = 0; v < VERSIONS_PER_NAME; v++) {
      await registry.register({
        name: `model-${n}`,
        path: file,
        tags: { stage: v % 2 ? 'dev' : 'prod', team: `t${n % 7}` },
        properties: { seed: String(v) },
        description: `seeded version ${v + 1}`,
      });
    }
  }
  registry.setAlias(`model-0:${VERSIONS_PER_NAME}`, 'production');
  stores.close();
  return Date.now() - t0;
}

function benchCli(ws: string) {
  const node: number[] = [];
  const version: number[] = [];
  const list: number[] = [];
  const show: number[] = [];
  const ref = `model-${NAMES >> 1}:${VERSIONS_PER_NAME >> 1}`;
  // One warm-up of each, then alternate.
  for (let i = 0; i <= CLI_RUNS; i++) {
    const n = run(process.execPath, ['-e', '0']);
    const v = run(process.execPath, [BIN, '--version']);
    const l = run(process.execPath, [BIN, '--workspace', ws, 'model', 'list', '--json']);
    const s = run(process.execPath, [BIN, '--workspace', ws, 'model', 'show', ref]);
    if (i === 0) continue;
    node.push(n);
    version.push(v);
    list.push(l);
    show.push(s);
  }
  return { node: median(node), version: median(version), list: median(list), show: median(show), ref };
}

try {
  console.log(`# berth registry bench (${new Date().toISOString()}, node ${process.version})`);
  const big = benchBigRegistration();
  const ws = join(work, 'ws-10k');
  const seedMs = await seedWorkspace(ws);
  console.log(
    `seeded ${NAMES * VERSIONS_PER_NAME} versions through ModelRegistry.register in ${(seedMs / 1000).toFixed(1)} s`,
  );
  const cli = benchCli(ws);
  console.log('');
  console.log(
    ratioLine(`register 200 MB file / (cp + sha256sum)  [${BIG_RUNS} runs]`, big.berth, big.baseline, 1.5),
  );
  console.log(
    `  (info) register / (cp + sync + sha256sum), same durability as berth: ${(big.berth / big.baselineSync).toFixed(2)}x  (${fmt(big.baselineSync)})`,
  );
  console.log(
    ratioLine(
      `model list --json, 10,000 versions / berth --version  [${CLI_RUNS} runs]`,
      cli.list,
      cli.version,
      3,
    ),
  );
  console.log(ratioLine(`model show ${cli.ref} / berth --version`, cli.show, cli.version, 3));
  console.log(ratioLine('berth --version / node -e 0', cli.version, cli.node, 2.5));
  console.log(`total bench time ${((Date.now() - started) / 1000).toFixed(0)} s`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
