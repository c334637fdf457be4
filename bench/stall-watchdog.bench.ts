/**
 * `node --import tsx bench/stall-watchdog.bench.ts`: what the stall watchdog and the supervisor cost on
 * the scoring hot path. Three servers of the same echo entry script, side by side in one run,
 * alternating (A B C A B C ...), medians, with the anchors' wrk wrapper (../shared/anchors/run-load.sh):
 *   plain     the scoring server alone in one process (no watchdog hooks, no supervisor)
 *   watchdog  the same plus the stall watchdog (its thread, heartbeat and per-request hooks)
 *   serve     `berth serve --replicas 1`: supervisor + one worker with the watchdog (what users run)
 * Prints req/s, p99, server CPU µs per request and the ratios watchdog/plain and serve/plain, after the
 * steadiest figure on a shared machine: the per-request hooks' own cost, timed in this process.
 * Env: BENCH_SECONDS (5), BENCH_RUNS (3), BENCH_CONNS ("16 64"), BERTH_ANCHORS (/work/shared/anchors).
 * Needs dist/ (npm run build) and wrk.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './bench-stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ANCHORS = process.env.BERTH_ANCHORS ?? '/work/shared/anchors';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CONNS = (process.env.BENCH_CONNS ?? '16 64').split(/\s+/).filter(Boolean).map(Number);
const ECHO = join(ROOT, 'test', 'fixtures', 'entry-scripts', 'echo.js');

type Variant = 'plain' | 'watchdog' | 'serve';
const VARIANTS: Variant[] = ['plain', 'watchdog', 'serve'];

interface Load {
  rps: number;
  p99: number;
  cpuUsPerReq: number;
}

/** Child mode: one scoring server in this process, with or without the watchdog. */
async function serveInProcess(withWatchdog: boolean, port: number): Promise<void> {
  const dist = (p: string) => join(ROOT, 'dist', p);
  const { createLogger } = await import(dist('core/logger.js'));
  const { createRuntime } = await import(dist('serving/runtimes/create-runtime.js'));
  const { createScoringServer } = await import(dist('serving/scoring-server.js'));
  const { SERVE_DEFAULTS } = await import(dist('serving/serve-defaults.js'));
  const { startStallWatchdog } = await import(dist('serving/stall-watchdog.js'));
  // The same logging as a replica of `berth serve --log-file`: stdout and a file.
  const log = createLogger({ name: 'echo', file: join(tmpdir(), `berth-bench-wd-${port}.log`) });
  const config = { runtime: 'node', entryScript: ECHO };
  const spec = {
    name: 'echo',
    models: [],
    inferenceConfig: config,
    host: '127.0.0.1',
    port,
    replicas: 1,
    limits: SERVE_DEFAULTS,
  };
  const runtime = await createRuntime({ config, models: [], log, limits: SERVE_DEFAULTS });
  await runtime.load();
  let hooks: object | undefined;
  if (withWatchdog) {
    const w = startStallWatchdog({ name: 'echo' });
    w.arm('serving', SERVE_DEFAULTS.scoringTimeoutMs);
    hooks = {
      onRequestStart: (s: unknown, v2: boolean) => w.onRequestStart(s, v2),
      onRequestEnd: (fd: number) => w.onRequestEnd(fd),
    };
  }
  const scoring = createScoringServer({ spec, runtime, log, hooks });
  scoring.setReady(true);
  scoring.server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
}

/** ns per request of onRequestStart + onRequestEnd (the watchdog's hot-path work), best of 3 rounds. */
async function hookCost(): Promise<number> {
  const { startStallWatchdog } = await import(join(ROOT, 'dist', 'serving', 'stall-watchdog.js'));
  const w = startStallWatchdog({ name: 'bench' });
  w.arm('serving', 60_000);
  const sockets = Array.from({ length: 64 }, (_, i) => ({
    _handle: { fd: 20 + i },
  }));
  const n = 5_000_000;
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 3; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const s = sockets[i & 63];
      w.onRequestEnd(w.onRequestStart(s, false));
    }
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / n);
  }
  await w.stop();
  return best;
}

async function waitUp(port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode})`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/score`, {
        method: 'POST',
        body: '{"a":1}',
        headers: { 'content-type': 'application/json' },
      });
      if (res.status === 200) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server on ${port} did not come up`);
}

async function start(variant: Variant, port: number, work: string): Promise<ChildProcess> {
  let args: string[];
  if (variant === 'serve') {
    const model = join(work, 'echo-model');
    mkdirSync(model, { recursive: true });
    writeFileSync(join(model, 'weights.txt'), 'w');
    const ic = join(work, 'ic.json');
    writeFileSync(ic, JSON.stringify({ runtime: 'node', entryScript: ECHO }));
    args = [
      join(ROOT, 'bin', 'berth.js'),
      'serve',
      '--model-dir',
      model,
      '--ic',
      ic,
      '--port',
      String(port),
      '--log-file',
      join(work, 'serve.log'),
    ];
  } else {
    args = ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', variant, String(port)];
  }
  const child = spawn(process.execPath, args, { stdio: 'ignore', detached: true });
  await waitUp(port, child);
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || !child.pid) return;
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(-child.pid, 'SIGTERM');
  const t = setTimeout(() => child.pid && process.kill(-child.pid, 'SIGKILL'), 5_000);
  await exited;
  clearTimeout(t);
}

function load(port: number, pid: number, conns: number): Load {
  const out = execFileSync(
    'bash',
    [
      join(ANCHORS, 'run-load.sh'),
      `http://127.0.0.1:${port}/score`,
      join(ANCHORS, 'bodies', 'linear_1.json'),
      String(conns),
      String(SECONDS),
    ],
    { env: { ...process.env, SERVER_PIDS: String(pid) }, encoding: 'utf8' },
  );
  const line = out.split('\n').find((l) => l.startsWith('RESULT')) ?? '';
  const field = (name: string) => Number(new RegExp(`${name}=([0-9.]+)`).exec(line)?.[1] ?? Number.NaN);
  const rps = field('rps');
  return { rps, p99: field('p99_ms'), cpuUsPerReq: (field('server_cpu_pct') / 100 / rps) * 1e6 };
}

async function main(): Promise<void> {
  if (process.argv[2] === '--serve') {
    await serveInProcess(process.argv[3] === 'watchdog', Number(process.argv[4]));
    return;
  }
  if (
    !existsSync(join(ANCHORS, 'run-load.sh')) ||
    !existsSync(join(ROOT, 'dist', 'serving', 'stall-watchdog.js'))
  ) {
    process.stdout.write(`needs ${ANCHORS}/run-load.sh (with wrk) and dist/ (npm run build)\n`);
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'berth-bench-wd-'));
  let port = 19_400 + Math.floor(Math.random() * 400);
  process.stdout.write(
    `stall watchdog hooks: ${(await hookCost()).toFixed(1)} ns per request (onRequestStart + onRequestEnd)\n`,
  );
  process.stdout.write(
    `stall watchdog / supervisor cost, echo entry script, ${SECONDS} s x ${RUNS} runs, alternating, medians\n`,
  );
  try {
    for (const c of CONNS) {
      const results = new Map<Variant, Load[]>(VARIANTS.map((v) => [v, []]));
      for (let r = 0; r < RUNS; r++) {
        for (const v of VARIANTS) {
          const p = port++;
          const child = await start(v, p, work);
          try {
            const l = load(p, child.pid!, c);
            results.get(v)!.push(l);
            process.stdout.write(
              `  c=${c} run ${r + 1} ${v.padEnd(8)} rps=${l.rps.toFixed(0)} p99=${l.p99.toFixed(2)}ms cpu=${l.cpuUsPerReq.toFixed(1)}us/req\n`,
            );
          } finally {
            await stop(child);
          }
        }
      }
      const m = (v: Variant, k: keyof Load) => median(results.get(v)!.map((l) => l[k]));
      const ratio = (a: number, b: number) => (a / b).toFixed(3);
      process.stdout.write(
        `c=${c}: req/s watchdog/plain ${ratio(m('watchdog', 'rps'), m('plain', 'rps'))}, serve/plain ${ratio(m('serve', 'rps'), m('plain', 'rps'))}; ` +
          `CPU/req watchdog/plain ${ratio(m('watchdog', 'cpuUsPerReq'), m('plain', 'cpuUsPerReq'))}, serve/plain ${ratio(m('serve', 'cpuUsPerReq'), m('plain', 'cpuUsPerReq'))}; ` +
          `p99 watchdog/plain ${ratio(m('watchdog', 'p99'), m('plain', 'p99'))}\n`,
      );
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
