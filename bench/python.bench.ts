/**
 * `npm run bench:python` — the seed's scikit-learn score.py under Berth's python runtime vs the
 * anchors' Flask + gunicorn (server C: ../shared/anchors/python/app.py + score.py, `gunicorn -w 2`),
 * with the same number of Python worker processes (2), same model (anchors' models/ridge.pkl),
 * same body (bodies/linear_1.json), 16 connections, the anchors' run-load.sh (wrk) for every run,
 * runs alternating between the servers, medians reported with ratios.
 * A third server, Berth running the anchors' own score.py, separates the runtime from the script.
 *
 * Env: BENCH_RUNS (default 3), BENCH_SECONDS (default 8), BENCH_CONNECTIONS (default 16),
 *      BENCH_WORKERS (Python workers per side, default 2), BERTH_ANCHORS_DIR (default ../shared/anchors),
 *      BENCH_PYTHON (default /usr/bin/python3; needs sklearn, flask, gunicorn: bash ANCHORS/setup.sh).
 * Writes bench/results/python.json.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './bench-stats.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ANCHORS = resolve(process.env.BERTH_ANCHORS_DIR ?? join(ROOT, '..', 'shared', 'anchors'));
const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3';
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
const WARMUP_SECONDS = 2;
const BODY = join(ANCHORS, 'bodies', 'linear_1.json');
const SEED_SCRIPT = join(ROOT, 'test', 'python', 'fixtures', 'seed-sklearn', 'score.py');

interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  cpuPct: number;
  errors: number;
}

interface Server {
  label: string;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

function fail(message: string): never {
  console.error(`bench:python: ${message}`);
  process.exit(2);
}

function checkPrerequisites(): void {
  if (!existsSync(join(ANCHORS, 'run-load.sh'))) {
    fail(`the anchors are not at ${ANCHORS} (set BERTH_ANCHORS_DIR); this benchmark compares against them.`);
  }
  const missing: string[] = [];
  for (const cmd of ['wrk', 'gunicorn']) {
    try {
      execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    } catch {
      missing.push(cmd);
    }
  }
  try {
    execFileSync(PYTHON, ['-c', 'import flask, sklearn, numpy, joblib'], { stdio: 'ignore' });
  } catch {
    missing.push(`${PYTHON} with flask, sklearn, numpy, joblib`);
  }
  if (missing.length > 0) fail(`missing ${missing.join(', ')}: run  bash ${join(ANCHORS, 'setup.sh')}`);
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) fail('build first: npm run build');
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => res(port));
    });
  });
}

async function waitFor(url: string, child: ChildProcess, what: string, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited:\n${output()}`);
    try {
      const res = await fetch(url, {
        method: 'POST',
        body: '{"data":[[1,2,3,4,5,6,7,8,9,10]]}',
        headers: { 'content-type': 'application/json' },
      });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not answer within 60 s:\n${output()}`);
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise<void>((res) => {
      if (child.exitCode !== null || child.signalCode !== null) return res();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(timer);
        res();
      });
      child.kill('SIGTERM');
    });
}

async function startGunicorn(): Promise<Server> {
  const port = await freePort();
  const child = spawn(
    'gunicorn',
    [
      '-w',
      String(WORKERS),
      '-k',
      'sync',
      '-b',
      `127.0.0.1:${port}`,
      '--chdir',
      join(ANCHORS, 'python'),
      'app:app',
    ],
    {
      env: { ...process.env, OPENBLAS_NUM_THREADS: '1', AZUREML_MODEL_DIR: join(ANCHORS, 'models') },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}/score`;
  await waitFor(url, child, 'gunicorn', () => out);
  return {
    label: `C gunicorn -w ${WORKERS} + Flask, anchors' score.py`,
    url,
    pid: child.pid!,
    stop: stopper(child),
  };
}

async function startBerth(label: string, script: string, work: string): Promise<Server> {
  const code = mkdtempSync(join(work, 'code-'));
  copyFileSync(script, join(code, 'score.py'));
  writeFileSync(
    join(code, 'inferenceconfig.json'),
    JSON.stringify({
      runtime: 'python',
      entryScript: 'score.py',
      workersPerReplica: WORKERS,
      pythonInterpreter: PYTHON,
    }),
  );
  // one model folder, two names for the same pickle: the seed's script asks Model.get_model_path for the
  // file sklearn_regression_model.pkl, the anchors' script reads AZUREML_MODEL_DIR/ridge.pkl
  const modelDir = join(work, 'ridge');
  if (!existsSync(modelDir)) {
    mkdirSync(modelDir);
    copyFileSync(join(ANCHORS, 'models', 'ridge.pkl'), join(modelDir, 'sklearn_regression_model.pkl'));
    copyFileSync(join(ANCHORS, 'models', 'ridge.pkl'), join(modelDir, 'ridge.pkl'));
  }
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'bin', 'berth.js'),
      'serve',
      '--model-dir',
      modelDir,
      '--ic',
      join(code, 'inferenceconfig.json'),
      '--port',
      String(port),
      '--replicas',
      '1',
    ],
    {
      env: { ...process.env, OPENBLAS_NUM_THREADS: '1', BERTH_WORKSPACE: undefined },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}/score`;
  await waitFor(url, child, 'berth serve', () => out);
  return { label, url, pid: child.pid!, stop: stopper(child) };
}

function load(server: Server, seconds: number): LoadResult {
  const out = execFileSync(
    'bash',
    [join(ANCHORS, 'run-load.sh'), server.url, BODY, String(CONNECTIONS), String(seconds)],
    {
      encoding: 'utf8',
      env: { ...process.env, SERVER_PIDS: String(server.pid) },
    },
  );
  const line = out.split('\n').find((l) => l.startsWith('RESULT ')) ?? '';
  const field = (name: string) => Number(new RegExp(`\\b${name}=([0-9.]+)`).exec(line)?.[1] ?? Number.NaN);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1];
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors =
    Number(non2xx ?? 0) + (socketErrors ? socketErrors.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
  return {
    rps: field('rps'),
    p50: field('p50_ms'),
    p99: field('p99_ms'),
    cpuPct: field('server_cpu_pct'),
    errors,
  };
}

async function main(): Promise<void> {
  checkPrerequisites();
  const work = mkdtempSync(join(tmpdir(), 'berth-bench-python-'));
  const servers: Server[] = [];
  try {
    servers.push(
      await startBerth(
        `Berth python runtime (1 replica x ${WORKERS} workers), seed's score.py`,
        SEED_SCRIPT,
        work,
      ),
    );
    servers.push(await startGunicorn());
    servers.push(
      await startBerth(
        `Berth python runtime (1 replica x ${WORKERS} workers), anchors' score.py`,
        join(ANCHORS, 'python', 'score.py'),
        work,
      ),
    );
    const results = new Map<Server, LoadResult[]>(servers.map((s) => [s, []]));
    for (const s of servers) load(s, WARMUP_SECONDS);
    for (let run = 0; run < RUNS; run++) {
      for (const s of servers) {
        const r = load(s, SECONDS);
        results.get(s)!.push(r);
        console.log(
          `run ${run + 1}/${RUNS}  ${s.label}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, errors ${r.errors}`,
        );
      }
    }
    const summary = servers.map((s) => {
      const rs = results.get(s)!;
      const rps = median(rs.map((r) => r.rps));
      const cpuPct = median(rs.map((r) => r.cpuPct));
      return {
        server: s.label,
        rps,
        p50Ms: median(rs.map((r) => r.p50)),
        p99Ms: median(rs.map((r) => r.p99)),
        serverCpuUsPerRequest:
          Number.isFinite(cpuPct) && rps > 0 ? Math.round(((cpuPct / 100) * 1e6) / rps) : null,
        errors: rs.reduce((a, r) => a + r.errors, 0),
        runs: rs,
      };
    });
    const [berth, gunicorn, berthSame] = summary;
    const ratios = {
      rpsSeedScriptVsGunicorn: berth.rps / gunicorn.rps,
      p99SeedScriptVsGunicorn: berth.p99Ms / gunicorn.p99Ms,
      rpsSameScriptVsGunicorn: berthSame.rps / gunicorn.rps,
      p99SameScriptVsGunicorn: berthSame.p99Ms / gunicorn.p99Ms,
    };
    console.log(
      `\npython runtime vs Flask + gunicorn: ${CONNECTIONS} connections, ${WORKERS} Python workers each, ${RUNS} x ${SECONDS} s alternating, medians`,
    );
    console.log('| server | req/s | p50 ms | p99 ms | server CPU µs/req | errors |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const s of summary) {
      console.log(
        `| ${s.server} | ${s.rps.toFixed(0)} | ${s.p50Ms} | ${s.p99Ms} | ${s.serverCpuUsPerRequest ?? '-'} | ${s.errors} |`,
      );
    }
    console.log(
      `\nratio req/s, Berth (seed's score.py) / gunicorn: ${ratios.rpsSeedScriptVsGunicorn.toFixed(2)}x (target >= 1.2x)` +
        `\nratio p99,   Berth (seed's score.py) / gunicorn: ${ratios.p99SeedScriptVsGunicorn.toFixed(2)} (target <= 1.0)` +
        `\nratio req/s, Berth (same score.py) / gunicorn:   ${ratios.rpsSameScriptVsGunicorn.toFixed(2)}x` +
        `\nratio p99,   Berth (same score.py) / gunicorn:   ${ratios.p99SameScriptVsGunicorn.toFixed(2)}`,
    );
    mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(
      join(ROOT, 'bench', 'results', 'python.json'),
      `${JSON.stringify({ at: new Date().toISOString(), connections: CONNECTIONS, workers: WORKERS, runs: RUNS, seconds: SECONDS, body: BODY, summary, ratios }, null, 2)}\n`,
    );
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
