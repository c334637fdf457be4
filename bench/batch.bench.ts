/**
 * `npm run bench:batch`: `berth batch run` against the floor it must beat, in one run.
 *
 * The floor is a hand-written single-process loop doing the same work: read the lines (readline),
 * JSON.parse each, stack them into a tensor of the same mini-batch size (32), run onnxruntime,
 * write JSON Lines (`{"row":N,"prediction":...}`, JSON.stringify per line). It is run twice per
 * round, with onnxruntime's intra-op threads at 1 and at its default (all cores), and the faster
 * counts. Its output must be byte-identical to Berth's (same work, same answers).
 *
 * Every figure is the wall time of a whole process, from spawn to exit (node start, model load,
 * workers included), median of BENCH_RUNS alternating rounds; CPU is user+sys of the process tree.
 *   1. linear model (10 features, built in code) over 1,000,000 JSON Lines rows:
 *      Berth with 2 workers and with 1 worker vs the floor; and vs posting the same rows one at a
 *      time to the online service (`berth serve`, 2 replicas, 8 keep-alive connections) for
 *      BENCH_ONLINE_SECONDS, its rate extrapolated to the million rows.
 *   2. MLP 784-256-128-10 (built in code) over 100,000 rows: Berth with 2 workers vs the floor.
 *   3. peak resident memory (coordinator + workers, polled from /proc) at 100k and 1M linear rows.
 * Inputs are generated into a temp dir (removed at the end). Results: bench/results/batch.json.
 * Env: BENCH_RUNS (3), BENCH_ONLINE_SECONDS (20), BENCH_ONLY (e.g. "1 3").
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { Agent, request } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLinearModel, buildMlpModel, writeModel } from '../test/fixtures/models/onnx-model-builder.js';
import { median, say } from './bench-stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BERTH = join(ROOT, 'bin', 'berth.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ONLINE_SECONDS = Number(process.env.BENCH_ONLINE_SECONDS ?? 20);
const ONLY = new Set((process.env.BENCH_ONLY ?? '1 2 3').split(/\s+/).filter(Boolean));
const MINI_BATCH = 32;
const work = mkdtempSync(join(tmpdir(), 'berth-bench-batch-'));
const results: Record<string, unknown> = {
  cores: availableParallelism(),
  miniBatchSize: MINI_BATCH,
  runs: RUNS,
};

/** The hand-written loop: what someone writes to score a file without Berth. */
const FLOOR_SOURCE = `
import { createReadStream, openSync, writeSync, closeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';
const ort = createRequire(${JSON.stringify(join(ROOT, 'package.json'))})('onnxruntime-node');
const [model, input, output, bs, threads] = process.argv.slice(2);
const options = { graphOptimizationLevel: 'all' };
if (Number(threads) > 0) Object.assign(options, { intraOpNumThreads: Number(threads), interOpNumThreads: 1 });
const session = await ort.InferenceSession.create(model, options);
const inputName = session.inputNames[0];
const outputName = session.outputNames[0];
const size = Number(bs);
const out = openSync(output, 'w');
let rows = [];
let lines = [];
let row = 0;
async function flush() {
  const n = rows.length, k = rows[0].length;
  const data = new Float32Array(n * k);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) data[i * k + j] = rows[i][j];
  const y = (await session.run({ [inputName]: new ort.Tensor('float32', data, [n, k]) }))[outputName];
  const m = y.dims[1] ?? 1;
  for (let i = 0; i < n; i++) {
    const prediction = m === 1 ? y.data[i] : Array.from(y.data.subarray(i * m, (i + 1) * m));
    lines.push(JSON.stringify({ row: ++row, prediction }));
  }
  if (lines.length >= 4096) { writeSync(out, lines.join('\\n') + '\\n'); lines = []; }
  rows = [];
}
for await (const line of createInterface({ input: createReadStream(input), crlfDelay: Infinity })) {
  if (line === '') continue;
  rows.push(JSON.parse(line));
  if (rows.length === size) await flush();
}
if (rows.length > 0) await flush();
if (lines.length > 0) writeSync(out, lines.join('\\n') + '\\n');
closeSync(out);
`;

interface ProcessRun {
  wallS: number;
  cpuS: number;
  peakRssMb: number;
}

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : 'n/a';
}

/** Deterministic pseudo-random numbers in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** JSON Lines of `n` rows of `k` numbers: features in [-2, 2) with 6 decimals, or pixels in [0, 1) with 4. */
function generate(path: string, n: number, k: number, kind: 'features' | 'pixels'): void {
  const random = rng(kind === 'features' ? 42 : 7);
  const pixels = Array.from({ length: 10_000 }, (_, i) => String(i / 10_000));
  const fd = openSync(path, 'w');
  let chunk: string[] = [];
  for (let i = 0; i < n; i++) {
    const values = new Array<string>(k);
    for (let j = 0; j < k; j++) {
      values[j] =
        kind === 'pixels'
          ? pixels[Math.floor(random() * 10_000)]
          : String(Math.round((random() * 4 - 2) * 1e6) / 1e6);
    }
    chunk.push(`[${values.join(',')}]`);
    if (chunk.length === 2000) {
      writeSync(fd, `${chunk.join('\n')}\n`);
      chunk = [];
    }
  }
  if (chunk.length > 0) writeSync(fd, `${chunk.join('\n')}\n`);
  closeSync(fd);
}

/** Resident memory (MB) of `pid` and all its descendants, from /proc. */
function treeRssMb(pid: number): number {
  const parents = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(name), Number(fields[1]));
    } catch {
      // gone
    }
  }
  const tree = new Set([pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [p, parent] of parents) {
      if (!tree.has(p) && tree.has(parent)) {
        tree.add(p);
        grew = true;
      }
    }
  }
  let kb = 0;
  for (const p of tree) {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) kb += Number(m[1]);
    } catch {
      // gone
    }
  }
  return kb / 1024;
}

/**
 * Runs a command to its end: wall time and CPU of its process tree (/usr/bin/time); with
 * `watchMemory`, also its peak tree RSS (polling /proc costs CPU, so timing runs do not poll).
 */
async function timed(cmd: string[], label: string, watchMemory = false): Promise<ProcessRun> {
  const useTime = existsSync('/usr/bin/time');
  const args = useTime ? ['/usr/bin/time', '-f', 'BENCH_TIME %e %U %S', ...cmd] : cmd;
  const started = performance.now();
  const child = spawn(args[0], args.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  let peak = 0;
  const poll = setInterval(() => {
    if (watchMemory && child.pid) peak = Math.max(peak, treeRssMb(child.pid));
  }, 50);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(poll);
  const wallS = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`${label} failed (${code}): ${stderr.slice(-2000)}`);
  const m = /BENCH_TIME ([\d.]+) ([\d.]+) ([\d.]+)/.exec(stderr);
  return {
    wallS: m ? Number(m[1]) : wallS,
    cpuS: m ? Number(m[2]) + Number(m[3]) : Number.NaN,
    peakRssMb: peak,
  };
}

function floorRun(model: string, input: string, output: string, threads: number): Promise<ProcessRun> {
  return timed(
    [process.execPath, join(work, 'floor.mjs'), model, input, output, String(MINI_BATCH), String(threads)],
    'floor',
  );
}

function berthRun(
  modelDir: string,
  input: string,
  output: string,
  workers: number,
  watchMemory = false,
): Promise<ProcessRun> {
  return timed(
    [
      process.execPath,
      BERTH,
      'batch',
      'run',
      '--model-dir',
      modelDir,
      '--input',
      input,
      '--output',
      output,
      '--mini-batch-size',
      String(MINI_BATCH),
      '--workers',
      String(workers),
      '--no-progress',
    ],
    `berth batch run --workers ${workers}`,
    watchMemory,
  );
}

function sameFile(a: string, b: string): boolean {
  return spawnSync('cmp', ['-s', a, b]).status === 0;
}

interface Compared {
  rows: number;
  floor: { wallS: number; cpuS: number; rowsPerS: number; threads: number };
  berth: Record<string, { wallS: number; cpuS: number; rowsPerS: number; ratio: number }>;
}

/** Alternating rounds: floor (1 thread), floor (default threads), Berth with each worker count. */
async function compare(
  label: string,
  model: string,
  modelDir: string,
  input: string,
  rows: number,
  workerCounts: number[],
): Promise<Compared> {
  const floors: Record<number, ProcessRun[]> = { 1: [], 0: [] };
  const berths: Record<number, ProcessRun[]> = {};
  const floorOut = join(work, 'floor-out.jsonl');
  const berthOut = join(work, 'berth-out.jsonl');
  for (let r = 0; r < RUNS; r++) {
    for (const threads of [1, 0]) floors[threads].push(await floorRun(model, input, floorOut, threads));
    for (const w of workerCounts) {
      (berths[w] ??= []).push(await berthRun(modelDir, input, berthOut, w));
      if (r === 0 && w === workerCounts[0] && !sameFile(floorOut, berthOut)) {
        throw new Error(`${label}: Berth's output differs from the floor's; they must do the same work`);
      }
    }
    say(`  round ${r + 1}/${RUNS} done (load average ${loadavg()[0].toFixed(1)})`);
  }
  const floorBest = [1, 0]
    .map((threads) => ({
      threads,
      wallS: median(floors[threads].map((x) => x.wallS)),
      cpuS: median(floors[threads].map((x) => x.cpuS)),
    }))
    .sort((a, b) => a.wallS - b.wallS)[0];
  const floor = { ...floorBest, rowsPerS: rows / floorBest.wallS };
  say(
    `  floor, hand-written loop (1 process, onnxruntime intra-op threads ${floorBest.threads || 'default'}): ${fmt(floor.wallS, 2)} s, ${fmt(floor.rowsPerS)} rows/s, CPU ${fmt(floor.cpuS, 2)} s`,
  );
  for (const threads of [1, 0]) {
    if (threads === floorBest.threads) continue;
    say(
      `    (intra-op threads ${threads || 'default'}: ${fmt(median(floors[threads].map((x) => x.wallS)), 2)} s)`,
    );
  }
  const berth: Compared['berth'] = {};
  for (const w of workerCounts) {
    const wallS = median(berths[w].map((x) => x.wallS));
    const cpuS = median(berths[w].map((x) => x.cpuS));
    const rowsPerS = rows / wallS;
    const ratio = rowsPerS / floor.rowsPerS;
    berth[`workers${w}`] = { wallS, cpuS, rowsPerS, ratio };
    say(
      `  berth batch run --workers ${w}: ${fmt(wallS, 2)} s, ${fmt(rowsPerS)} rows/s, CPU ${fmt(cpuS, 2)} s  →  ${fmt(ratio, 2)}× the floor`,
    );
  }
  return { rows, floor, berth };
}

/** Posts rows one per request to `berth serve` for `seconds`; returns rows/s. */
async function onlineRate(
  modelDir: string,
  input: string,
): Promise<{ rowsPerS: number; posted: number; seconds: number; errors: number }> {
  const port = 19_000 + Math.floor(Math.random() * 1000);
  const logFile = join(work, 'serve.log');
  const fd = openSync(logFile, 'w');
  const server: ChildProcess = spawn(
    process.execPath,
    [BERTH, 'serve', '--model-dir', modelDir, '--port', String(port), '--replicas', '2'],
    {
      stdio: ['ignore', fd, fd],
      detached: true,
    },
  );
  closeSync(fd);
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const post = (body: string): Promise<number> =>
    new Promise((resolve) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/score',
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', () => resolve(0));
      req.end(body);
    });
  try {
    const lines = readFileSync(input, 'utf8').split('\n', 200_000).filter(Boolean);
    const bodies = lines.map((l) => `{"data":[${l}]}`);
    const t0 = Date.now();
    while ((await post(bodies[0])) !== 200) {
      if (server.exitCode !== null || Date.now() - t0 > 60_000)
        throw new Error(`berth serve did not start: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    let next = 0;
    let posted = 0;
    let errors = 0;
    const started = performance.now();
    const until = started + ONLINE_SECONDS * 1000;
    const client = async (): Promise<void> => {
      while (performance.now() < until) {
        const status = await post(bodies[next++ % bodies.length]);
        if (status === 200) posted++;
        else errors++;
      }
    };
    await Promise.all(Array.from({ length: 8 }, client));
    const seconds = (performance.now() - started) / 1000;
    return { rowsPerS: posted / seconds, posted, seconds, errors };
  } finally {
    agent.destroy();
    try {
      if (server.pid) process.kill(-server.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}

async function main(): Promise<void> {
  if (
    !existsSync(join(ROOT, 'dist', 'cli', 'main.js')) ||
    !existsSync(join(ROOT, 'dist', 'batch', 'batch-worker-main.js'))
  ) {
    say('building dist/ ...');
    spawnSync('npx', ['tsc', '-p', ROOT], { stdio: 'inherit' });
  }
  writeFileSync(join(work, 'floor.mjs'), FLOOR_SOURCE);
  const linearDir = join(work, 'linear');
  const linearModel = writeModel(linearDir, 'linear.onnx', buildLinearModel());
  const mlpDir = join(work, 'mlp');
  const mlpModel = writeModel(mlpDir, 'mlp.onnx', buildMlpModel());
  say(
    `berth batch bench: ${availableParallelism()} cores, mini-batch ${MINI_BATCH}, ${RUNS} alternating rounds, medians; temp dir ${work}`,
  );

  const linear1m = join(work, 'linear-1m.jsonl');
  const linear100k = join(work, 'linear-100k.jsonl');
  if (ONLY.has('1') || ONLY.has('3')) {
    say('generating 1,000,000 linear rows (10 features) ...');
    generate(linear1m, 1_000_000, 10, 'features');
    generate(linear100k, 100_000, 10, 'features');
  }

  if (ONLY.has('1')) {
    say('\n1. linear model, 1,000,000 JSON Lines rows');
    const linear = await compare('linear', linearModel, linearDir, linear1m, 1_000_000, [2, 1]);
    say(
      `  online: posting rows one at a time to berth serve (2 replicas, 8 keep-alive connections) for ${ONLINE_SECONDS} s ...`,
    );
    const online = await onlineRate(linearDir, linear1m);
    const extrapolatedS = 1_000_000 / online.rowsPerS;
    const onlineRatio = linear.berth.workers2.rowsPerS / online.rowsPerS;
    say(
      `  online: ${fmt(online.posted)} rows in ${fmt(online.seconds, 1)} s = ${fmt(online.rowsPerS)} rows/s (${online.errors} errors); extrapolated, 1,000,000 rows take ${fmt(extrapolatedS)} s  →  batch is ${fmt(onlineRatio, 1)}× faster`,
    );
    results.linear = {
      ...linear,
      online: { ...online, extrapolatedSecondsFor1M: extrapolatedS, batchRatio: onlineRatio },
    };
  }

  if (ONLY.has('2')) {
    say('\n2. MLP 784-256-128-10, 100,000 JSON Lines rows');
    const mlp100k = join(work, 'mlp-100k.jsonl');
    say('generating 100,000 MLP rows (784 pixels) ...');
    generate(mlp100k, 100_000, 784, 'pixels');
    results.mlp = await compare('mlp', mlpModel, mlpDir, mlp100k, 100_000, [2]);
    rmSync(mlp100k, { force: true });
  }

  if (ONLY.has('3')) {
    say('\n3. peak resident memory of berth batch run --workers 2 (coordinator + workers), linear model');
    const out = join(work, 'mem-out.jsonl');
    const small = await berthRun(linearDir, linear100k, out, 2, true);
    const big = await berthRun(linearDir, linear1m, out, 2, true);
    say(`  100,000 rows: ${fmt(small.peakRssMb)} MB    1,000,000 rows: ${fmt(big.peakRssMb)} MB`);
    results.memory = { rows100k: small.peakRssMb, rows1m: big.peakRssMb };
  }

  results.loadAfter = loadavg();
  say(
    `load average after: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'batch.json'), `${JSON.stringify(results, null, 2)}\n`);
  say('\nresults: bench/results/batch.json');
}

main()
  .catch((err) => {
    process.exitCode = 1;
    say(`bench failed: ${(err as Error).stack ?? err}`);
  })
  .finally(() => rmSync(work, { recursive: true, force: true }));
