/**
 * `npm run bench:serve`: Berth's scoring server side by side with the anchors (../shared/anchors),
 * in one run, equal process counts, alternating runs (Berth, anchor, Berth, anchor, ...), medians.
 * Prints req/s, p99 and server CPU µs per request (utime+stime of the server's process tree, read
 * from /proc by the anchors' run-load.sh), and the ratios the issue asks for:
 *   1. a node entry script returning its input vs node-echo.js (and vs node-bare.js), 16 and 64 connections
 *   2. the ONNX MLP 784-256-128-10 (built in code) served with no code vs node-onnx.js, 1 process, mlp_1 body
 *   3. the same MLP, 2 processes, vs Flask + gunicorn + numpy (anchor D, 2 workers) and node-onnx.js x2 (B2)
 *   4. cold start (spawn → first 200 on POST /score) for the MLP, with the anchors' tools/coldstart.js
 *   5. resident memory of one replica serving the MLP
 * Berth runs as `node bin/berth.js serve` (dist/ is built first when missing), logging to a file.
 * Every server gets BENCH_WARMUP seconds of load before its first counted run (and 2 s before each
 * further connection count): on this machine both Berth's and the anchors' p99 stay 2-4x above their
 * steady value for the first ~6-8 s of load (JIT tiering), so a short warm-up measures start-up, not
 * serving. Runs are the anchors' own length (run-baselines.sh: 10 s, 3 runs).
 * Env: BENCH_SECONDS (10), BENCH_RUNS (3), BENCH_WARMUP (10), BENCH_CONNS ("16 64"), BENCH_COLD_RUNS (5),
 *      BERTH_ANCHORS (/work/shared/anchors), BENCH_ONLY (e.g. "1 2": sections to run).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildMlpModel, writeModel } from '../test/fixtures/models/onnx-model-builder.js';
import { median, say } from './bench-stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ANCHORS = process.env.BERTH_ANCHORS ?? '/work/shared/anchors';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 10);
const CONNS = (process.env.BENCH_CONNS ?? '16 64').split(/\s+/).filter(Boolean).map(Number);
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 5);
const ONLY = new Set((process.env.BENCH_ONLY ?? '1 2 3 4 5').split(/\s+/).filter(Boolean));
const BERTH = join(ROOT, 'bin', 'berth.js');

interface Server {
  label: string;
  port: number;
  child: ChildProcess;
  logFile: string;
}

interface Load {
  rps: number;
  p50: number;
  p99: number;
  cpuUsPerReq: number;
  errors: number;
}

const work = mkdtempSync(join(tmpdir(), 'berth-bench-serve-'));
const servers: Server[] = [];
let nextPort = 18_300 + Math.floor(Math.random() * 500);

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

function post(port: number, body: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/score',
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.setTimeout(5_000, () => req.destroy());
    req.end(body);
  });
}

async function start(label: string, cmd: string[], env: NodeJS.ProcessEnv, body: Buffer): Promise<Server> {
  const port = nextPort++;
  const args = cmd.map((a) => a.replaceAll('{PORT}', String(port)));
  const logFile = join(work, `${label.replace(/\W+/g, '_')}.log`);
  const fd = openSync(logFile, 'w');
  const child = spawn(args[0], args.slice(1), {
    env: { ...process.env, ...env },
    stdio: ['ignore', fd, fd],
    detached: true,
  });
  closeSync(fd);
  const server = { label, port, child, logFile };
  servers.push(server);
  const t0 = Date.now();
  while (Date.now() - t0 < 60_000) {
    if (child.exitCode !== null)
      throw new Error(`${label} exited (${child.exitCode}): ${readFileSync(logFile, 'utf8').slice(-2000)}`);
    if ((await post(port, body)) === 200) return server;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${label} did not answer 200 on POST /score within 60 s`);
}

async function stop(server: Server): Promise<void> {
  const i = servers.indexOf(server);
  if (i >= 0) servers.splice(i, 1);
  if (server.child.exitCode !== null || server.child.pid === undefined) return;
  const exited = new Promise((r) => server.child.once('exit', r));
  try {
    process.kill(-server.child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      if (server.child.pid) process.kill(-server.child.pid, 'SIGKILL');
    } catch {}
  }, 5_000);
  await exited;
  clearTimeout(timer);
}

function runLoad(server: Server, bodyFile: string, conns: number, seconds: number): Load {
  const out = execFileSync(
    'bash',
    [
      join(ANCHORS, 'run-load.sh'),
      `http://127.0.0.1:${server.port}/score`,
      bodyFile,
      String(conns),
      String(seconds),
    ],
    {
      env: { ...process.env, SERVER_PIDS: String(server.child.pid) },
      encoding: 'utf8',
      timeout: (seconds + 40) * 1000,
    },
  );
  const line = out.split('\n').find((l) => l.startsWith('RESULT ')) ?? '';
  const field = (k: string) => Number(new RegExp(`\\b${k}=([0-9.]+)`).exec(line)?.[1] ?? Number.NaN);
  const rps = field('rps');
  const errors = ['err_connect', 'err_read', 'err_write', 'err_status', 'err_timeout'].reduce(
    (a, k) => a + (field(k) || 0),
    0,
  );
  return {
    rps,
    p50: field('p50_ms'),
    p99: field('p99_ms'),
    cpuUsPerReq: (field('server_cpu_pct') / 100 / rps) * 1e6,
    errors,
  };
}

/** Alternating runs over `sides` at each connection count; returns medians per side and conns. */
function compare(sides: Server[], bodyFile: string, conns: number[]): Map<string, Map<number, Load>> {
  const results = new Map<string, Map<number, Load[]>>(sides.map((s) => [s.label, new Map()]));
  for (const [i, c] of conns.entries()) {
    const warmup = i === 0 ? WARMUP : Math.min(2, WARMUP);
    if (warmup > 0) for (const s of sides) runLoad(s, bodyFile, c, warmup); // not counted
    for (let r = 0; r < RUNS; r++) {
      for (const s of sides) {
        const load = runLoad(s, bodyFile, c, SECONDS);
        const list = results.get(s.label)?.get(c) ?? [];
        list.push(load);
        results.get(s.label)?.set(c, list);
        say(
          `   run ${r + 1}/${RUNS} c=${c} ${s.label.padEnd(34)} rps=${fmt(load.rps)} p99=${fmt(load.p99, 2)}ms cpu=${fmt(load.cpuUsPerReq, 1)}us/req${load.errors ? ` errors=${load.errors}` : ''}`,
        );
      }
    }
  }
  const medians = new Map<string, Map<number, Load>>();
  for (const [label, byConn] of results) {
    const m = new Map<number, Load>();
    for (const [c, loads] of byConn) {
      m.set(c, {
        rps: median(loads.map((l) => l.rps)),
        p50: median(loads.map((l) => l.p50)),
        p99: median(loads.map((l) => l.p99)),
        cpuUsPerReq: median(loads.map((l) => l.cpuUsPerReq)),
        errors: loads.reduce((a, l) => a + l.errors, 0),
      });
    }
    medians.set(label, m);
  }
  return medians;
}

function table(medians: Map<string, Map<number, Load>>, conns: number[]): void {
  say(
    `   ${'server'.padEnd(40)} ${'conns'.padStart(5)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'CPU us/req'.padStart(10)}`,
  );
  for (const [label, byConn] of medians) {
    for (const c of conns) {
      const l = byConn.get(c);
      if (!l) continue;
      say(
        `   ${label.padEnd(40)} ${String(c).padStart(5)} ${fmt(l.rps).padStart(8)} ${fmt(l.p50, 2).padStart(7)} ${fmt(l.p99, 2).padStart(7)} ${fmt(l.cpuUsPerReq, 1).padStart(10)}`,
      );
    }
  }
}

function ratio(a: number, b: number): string {
  return b > 0 ? `${(a / b).toFixed(2)}x` : 'n/a';
}

function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

function coldStart(label: string, cmd: string[], env: NodeJS.ProcessEnv, bodyFile: string): string {
  const port = nextPort++;
  const args = cmd.map((a) => a.replaceAll('{PORT}', String(port)));
  const out = execFileSync(
    'node',
    [
      join(ANCHORS, 'tools', 'coldstart.js'),
      '--url',
      `http://127.0.0.1:${port}/score`,
      '--body',
      bodyFile,
      '--runs',
      String(COLD_RUNS),
      '--',
      ...args,
    ],
    { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 300_000 },
  );
  const line = out.split('\n').find((l) => l.startsWith('COLDSTART')) ?? '';
  const m = /median_ms=([0-9.]+)/.exec(line)?.[1];
  say(`   ${label.padEnd(40)} ${line.replace(/^COLDSTART /, '')}`);
  return m ?? 'n/a';
}

async function main(): Promise<void> {
  say('# berth serve benchmark');
  if (!existsSync(join(ANCHORS, 'run-load.sh'))) {
    say(
      `Anchors not found at ${ANCHORS} (set BERTH_ANCHORS): this benchmark compares against them and cannot run without them.`,
    );
    process.exitCode = 2;
    return;
  }
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      say(`wrk is missing: run bash ${ANCHORS}/setup.sh (installs wrk, Flask, gunicorn, numpy).`);
      process.exitCode = 2;
      return;
    }
  }
  if (
    !existsSync(join(ROOT, 'dist', 'cli', 'main.js')) ||
    !existsSync(join(ROOT, 'dist', 'serving', 'scoring-server.js'))
  ) {
    say('building dist/ (tsc) ...');
    try {
      execFileSync('npx', ['tsc', '-p', join(ROOT, 'tsconfig.json')], { stdio: 'ignore' });
    } catch {
      // tsc exits non-zero on type errors but still emits
    }
  }
  say(
    `node ${process.version}, ${SECONDS} s x ${RUNS} runs per cell (medians), alternating, ${WARMUP} s warm-up per server, wrk 1 thread, anchors ${ANCHORS}`,
  );
  say(`load average before: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);

  const echoBody = join(ANCHORS, 'bodies', 'linear_1.json');
  const mlpBody = join(ANCHORS, 'bodies', 'mlp_1.json');
  const echoBytes = readFileSync(echoBody);
  const mlpBytes = readFileSync(mlpBody);

  const echoModel = join(work, 'echo-model');
  mkdirSync(echoModel);
  writeFileSync(join(echoModel, 'README'), 'the echo entry script uses no model file\n');
  const echoIc = join(work, 'echo-inferenceconfig.json');
  writeFileSync(
    echoIc,
    JSON.stringify({
      runtime: 'node',
      entryScript: join(ROOT, 'test', 'fixtures', 'entry-scripts', 'echo.js'),
    }),
  );
  const mlpDir = join(work, 'mlp');
  const mlpFile = writeModel(mlpDir, 'model.onnx', buildMlpModel());
  const onnxIc = join(work, 'onnx-inferenceconfig.json');
  writeFileSync(onnxIc, JSON.stringify({ runtime: 'onnx' }));

  const berth = (modelDir: string, ic: string, replicas = 1) => [
    process.execPath,
    BERTH,
    'serve',
    '--model-dir',
    modelDir,
    '--ic',
    ic,
    '--port',
    '{PORT}',
    '--replicas',
    String(replicas),
    '--log-file',
    join(work, `berth-${replicas}-${Math.random().toString(36).slice(2)}.jsonl`),
  ];
  const anchorNode = (script: string, ...rest: string[]) => [
    process.execPath,
    join(ANCHORS, 'servers', script),
    ...rest,
  ];
  const gunicornD = [
    'gunicorn',
    '-w',
    '2',
    '-k',
    'sync',
    '-b',
    '127.0.0.1:{PORT}',
    '--chdir',
    join(ANCHORS, 'python'),
    'app:app',
  ];
  const dEnv = { OPENBLAS_NUM_THREADS: '1', AZUREML_ENTRY_SCRIPT: 'score_mlp.py' };
  const figures: string[] = [];

  if (ONLY.has('1')) {
    say(
      '\n## 1. node entry script returning its input vs node-echo.js (A2) and node-bare.js (A), 1 process, linear_1 body',
    );
    const b = await start('berth serve (node echo.js)', berth(echoModel, echoIc), {}, echoBytes);
    const e = await start('A2 node-echo.js', anchorNode('node-echo.js', '{PORT}'), {}, echoBytes);
    const a = await start('A node-bare.js', anchorNode('node-bare.js', '{PORT}'), {}, echoBytes);
    const m = compare([b, e, a], echoBody, CONNS);
    for (const s of [b, e, a]) await stop(s);
    table(m, CONNS);
    for (const c of CONNS) {
      const bl = m.get(b.label)?.get(c);
      const el = m.get(e.label)?.get(c);
      const al = m.get(a.label)?.get(c);
      if (!bl || !el || !al) continue;
      const line = `echo c=${c}: req/s berth/echo ${ratio(bl.rps, el.rps)} (target >= 0.9), p99 berth/echo ${ratio(bl.p99, el.p99)} (target <= 1.3), CPU/req berth/echo ${ratio(bl.cpuUsPerReq, el.cpuUsPerReq)}; vs bare: berth ${ratio(bl.rps, al.rps)}, echo ${ratio(el.rps, al.rps)}`;
      say(`   ${line}`);
      figures.push(line);
    }
  }

  if (ONLY.has('2') || ONLY.has('5')) {
    say(
      '\n## 2. ONNX MLP 784-256-128-10 (built in code), no code, vs node-onnx.js (B), 1 process, mlp_1 body',
    );
    const b = await start('berth serve (onnx MLP)', berth(mlpDir, onnxIc), {}, mlpBytes);
    const o = await start(
      'B node-onnx.js',
      anchorNode('node-onnx.js', mlpFile, '{PORT}'),
      { ORT_INTRA_OP_THREADS: '1' },
      mlpBytes,
    );
    if (ONLY.has('2')) {
      const m = compare([b, o], mlpBody, CONNS);
      table(m, CONNS);
      for (const c of CONNS) {
        const bl = m.get(b.label)?.get(c);
        const ol = m.get(o.label)?.get(c);
        if (!bl || !ol) continue;
        const line = `onnx MLP c=${c}: req/s berth/node-onnx ${ratio(bl.rps, ol.rps)} (target >= 0.9), p99 ${ratio(bl.p99, ol.p99)}, CPU/req ${ratio(bl.cpuUsPerReq, ol.cpuUsPerReq)}`;
        say(`   ${line}`);
        figures.push(line);
      }
    }
    if (ONLY.has('5')) {
      say('\n## 5. resident memory serving the MLP (after the load above)');
      const primary = b.child.pid as number;
      const workers = childPids(primary);
      const replicaKb = workers.length > 0 ? rssKb(workers[0]) : rssKb(primary);
      const line = `RSS: berth replica ${fmt(replicaKb / 1024, 1)} MB (target <= 120), berth supervisor ${fmt(rssKb(primary) / 1024, 1)} MB, node-onnx.js ${fmt(rssKb(o.child.pid as number) / 1024, 1)} MB`;
      say(`   ${line}`);
      figures.push(line);
    }
    await stop(b);
    await stop(o);
  }

  if (ONLY.has('3')) {
    say(
      '\n## 3. the MLP with 2 processes vs Flask + gunicorn + numpy (D, 2 workers) and node-onnx.js x2 (B2), mlp_1 body',
    );
    const b = await start('berth serve --replicas 2 (onnx MLP)', berth(mlpDir, onnxIc, 2), {}, mlpBytes);
    const d = await start('D gunicorn -w 2 + Flask + numpy', gunicornD, dEnv, mlpBytes);
    const o = await start(
      'B2 node-onnx.js x2',
      anchorNode('node-onnx.js', mlpFile, '{PORT}'),
      { CLUSTER_WORKERS: '2', ORT_INTRA_OP_THREADS: '1' },
      mlpBytes,
    );
    const m = compare([b, d, o], mlpBody, [16]);
    for (const s of [b, d, o]) await stop(s);
    table(m, [16]);
    const bl = m.get(b.label)?.get(16);
    const dl = m.get(d.label)?.get(16);
    const ol = m.get(o.label)?.get(16);
    if (bl && dl && ol) {
      const line = `2 processes c=16: req/s berth/gunicorn ${ratio(bl.rps, dl.rps)} (target >= 2.5), node-onnx x2/gunicorn ${ratio(ol.rps, dl.rps)}, berth/node-onnx x2 ${ratio(bl.rps, ol.rps)}; CPU/req berth ${fmt(bl.cpuUsPerReq)} us, gunicorn ${fmt(dl.cpuUsPerReq)} us`;
      say(`   ${line}`);
      figures.push(line);
    }
  }

  if (ONLY.has('4')) {
    say(
      `\n## 4. cold start: spawn -> first 200 on POST /score, MLP, ${COLD_RUNS} runs (anchors' tools/coldstart.js)`,
    );
    const bc = coldStart('berth serve (onnx MLP)', berth(mlpDir, onnxIc), {}, mlpBody);
    const oc = coldStart(
      'B node-onnx.js',
      anchorNode('node-onnx.js', mlpFile, '{PORT}'),
      { ORT_INTRA_OP_THREADS: '1' },
      mlpBody,
    );
    const dc = coldStart('D gunicorn -w 2 + Flask + numpy', gunicornD, dEnv, mlpBody);
    const line = `cold start median: berth ${bc} ms, node-onnx.js ${oc} ms, gunicorn D ${dc} ms`;
    say(`   ${line}`);
    figures.push(line);
  }

  say(
    `\n## figures (load average after: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')})`,
  );
  for (const f of figures) say(`FIGURE ${f}`);
}

async function cleanup(): Promise<void> {
  for (const s of [...servers]) await stop(s);
  rmSync(work, { recursive: true, force: true });
}

process.on('SIGINT', () => {
  void cleanup().then(() => process.exit(130));
});

main()
  .catch((err) => {
    say(`bench failed: ${(err as Error).stack ?? err}`);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
