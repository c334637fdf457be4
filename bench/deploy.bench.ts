/**
 * `npm run bench:deploy`: the deploy issue's figures, from one run on 127.0.0.1.
 *   1. deploy → Healthy, seconds, with the control plane running (median of BENCH_DEPLOY_RUNS), for
 *      the ONNX MLP 784-256-128-10 (no code) and for a node entry script; plus once with a cold
 *      control plane (started by the deploy itself). The seed system quotes ~5 min for its Kubernetes target.
 *   2. update under load: autocannon, 32 connections for the whole rolling update of the MLP service
 *      (new model version): failed / non-2xx responses, p99 during the swap vs p99 before it (ratio).
 *   3. control-plane restart under load: SIGKILL the control plane, start it again, autocannon the
 *      service the whole time: failed / non-2xx responses.
 * Through the SDK (embedded workspace in a temp folder, control plane and replicas as real processes;
 * dist/ is built first when missing). Env: BENCH_DEPLOY_RUNS (3), BENCH_SECONDS (5, load before each swap), BENCH_SWAPS (3),
 * BENCH_ONLY (sections to run, e.g. "2 3").
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { ensureControlPlane, stopControlPlane } from '../src/deploy/control-plane-launcher.js';
import { InferenceConfig, Model, Webservice, Workspace } from '../src/sdk/index.js';
import { buildMlpModel, writeModel } from '../test/fixtures/models/onnx-model-builder.js';
import { median } from './bench-stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.BENCH_DEPLOY_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 32;
const SWAPS = Number(process.env.BENCH_SWAPS ?? 3);
const ONLY = new Set((process.env.BENCH_ONLY ?? '1 2 3').split(/\s+/).filter(Boolean));

if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', ROOT], {
    stdio: 'inherit',
  });
}

const work = mkdtempSync(join(tmpdir(), 'berth-bench-deploy-'));
const wsDir = join(work, 'ws');
const mlpFile = writeModel(join(work, 'models'), 'mlp.onnx', buildMlpModel());
const mlpBody = JSON.stringify({ data: [Array.from({ length: 784 }, (_, i) => ((i * 37) % 255) / 255)] });
writeFileSync(
  join(work, 'echo.js'),
  'export function init() {}\nexport function run(input) { return input; }\n',
);

function fmt(n: number, digits = 2): string {
  return n.toFixed(digits);
}

async function timedDeploy(
  ws: Workspace,
  name: string,
  models: string[],
  ic?: InferenceConfig,
): Promise<number> {
  const t0 = performance.now();
  const svc = await Model.deploy(ws, name, models, ic);
  await svc.waitForDeployment({ pollMs: 25 });
  return (performance.now() - t0) / 1000;
}

interface LoadRun {
  requests: number;
  errors: number;
  non2xx: number;
  timeouts: number;
  p50: number;
  p99: number;
}

/** autocannon on POST url until `until` resolves (or for `seconds`). */
function load(
  url: string,
  body: string,
  options: { seconds?: number; until?: Promise<unknown> },
): Promise<LoadRun> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        connections: CONNECTIONS,
        duration: options.seconds ?? 600,
        timeout: 30,
      },
      (err, r) => {
        if (err) reject(err);
        else
          resolve({
            requests: r.requests.total,
            errors: r.errors,
            non2xx: r.non2xx,
            timeouts: r.timeouts,
            p50: r.latency.p50,
            p99: r.latency.p99,
          });
      },
    );
    options.until?.then(
      () => instance.stop(),
      () => instance.stop(),
    );
  });
}

const failed = (r: LoadRun) => r.errors + r.non2xx + r.timeouts;

async function main(): Promise<void> {
  const lines: string[] = [];
  const print = (line: string) => {
    lines.push(line);
    process.stdout.write(`${line}\n`);
  };
  print(`# bench:deploy — ${new Date().toISOString()}, node ${process.version}, ${RUNS} deploys per kind`);

  const ws = Workspace.open(wsDir);
  await Model.register(ws, { name: 'mlp', path: mlpFile });
  await Model.register(ws, { name: 'mlp', path: mlpFile });
  const echo = new InferenceConfig({ runtime: 'node', entryScript: join(work, 'echo.js') });

  // 1. Deploy to Healthy. The first deploy also starts the control plane (cold).
  if (ONLY.has('1')) await deploySection(ws, echo, print);
  if (!ONLY.has('2') && !ONLY.has('3')) return finish(ws, lines);
  await ensureControlPlane(wsDir);

  // 2. Update under load.
  const svc = await Model.deploy(ws, 'swap', ['mlp:1']);
  await svc.waitForDeployment();
  if (ONLY.has('2')) await updateSection(svc, print);
  if (ONLY.has('3')) await restartSection(ws, svc, print);
  await svc.delete();
  await finish(ws, lines);
}

async function finish(ws: Workspace, lines: string[]): Promise<void> {
  await ws.close();
  mkdirResults(lines);
}

async function deploySection(
  ws: Workspace,
  echo: InferenceConfig,
  print: (line: string) => void,
): Promise<void> {
  const cold = await timedDeploy(ws, 'cold', ['mlp:1']);
  await (await Webservice.get(ws, 'cold')).delete();
  const onnx: number[] = [];
  const node: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    onnx.push(await timedDeploy(ws, `onnx-${i}`, ['mlp:1']));
    await (await Webservice.get(ws, `onnx-${i}`)).delete();
    node.push(await timedDeploy(ws, `node-${i}`, ['mlp:1'], echo));
    await (await Webservice.get(ws, `node-${i}`)).delete();
  }
  print('');
  print('## 1. deploy → Healthy (s), control plane running; seed system (Kubernetes target): ~300 s');
  print(`onnx MLP (no code):   median ${fmt(median(onnx))} s  runs ${onnx.map((v) => fmt(v)).join(' ')}`);
  print(`node entry script:    median ${fmt(median(node))} s  runs ${node.map((v) => fmt(v)).join(' ')}`);
  print(`onnx MLP, cold control plane (started by the deploy): ${fmt(cold)} s`);
}

async function updateSection(svc: Webservice, print: (line: string) => void): Promise<void> {
  print('');
  print(
    `## 2. rolling update under load (autocannon, ${CONNECTIONS} connections for the whole update; MLP, ${SWAPS} updates alternating mlp:1 ↔ mlp:2, each after ${SECONDS} s of load)`,
  );
  await load(svc.scoringUri, mlpBody, { seconds: 1 }); // warm-up
  const ratios: number[] = [];
  let totalFailed = 0;
  for (let i = 0; i < SWAPS; i++) {
    const to = i % 2 === 0 ? 'mlp:2' : 'mlp:1';
    const before = await load(svc.scoringUri, mlpBody, { seconds: SECONDS });
    const t0 = performance.now();
    let swapSeconds = 0;
    const updating = svc.update({ models: [to] }).then(() => {
      swapSeconds = (performance.now() - t0) / 1000;
    });
    // autocannon stops on its next 1 s tick after the update finished, so its window can be a bit longer.
    const during = await load(svc.scoringUri, mlpBody, { until: updating });
    await updating;
    const ratio = during.p99 / Math.max(1, before.p99);
    ratios.push(ratio);
    totalFailed += failed(before) + failed(during);
    print(
      `→ ${to}: before ${before.requests} req/${SECONDS} s p50 ${before.p50} ms p99 ${before.p99} ms failed ${failed(before)} | update took ${fmt(swapSeconds)} s; during it ${during.requests} req, p50 ${during.p50} ms p99 ${during.p99} ms failed ${failed(during)} (errors ${during.errors}, non-2xx ${during.non2xx}, timeouts ${during.timeouts}) | p99 ratio ${fmt(ratio)}`,
    );
  }
  print(
    `failed or non-2xx over all updates: ${totalFailed}; p99 during / before: median ${fmt(median(ratios))} (target ≤ 3), runs ${ratios.map((r) => fmt(r)).join(' ')}`,
  );
}

async function restartSection(ws: Workspace, svc: Webservice, print: (line: string) => void): Promise<void> {
  // 3. Control-plane restart under load.
  const cpKilled = (async () => {
    await new Promise((r) => setTimeout(r, 1000));
    const info = JSON.parse(readFileSync(join(wsDir, 'control-plane.json'), 'utf8')) as { pid: number };
    process.kill(info.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 1000));
    const t = performance.now();
    await ensureControlPlane(wsDir);
    const back = await Webservice.get(ws, 'swap');
    const restartSeconds = (performance.now() - t) / 1000;
    await new Promise((r) => setTimeout(r, 1000));
    return { restartSeconds, state: back.state };
  })();
  const across = await load(svc.scoringUri, mlpBody, { until: cpKilled });
  const restart = await cpKilled;
  print('');
  print(
    `## 3. control plane SIGKILLed and started again under load (autocannon, ${CONNECTIONS} connections)`,
  );
  print(
    `${across.requests} req, p99 ${across.p99} ms, failed ${failed(across)} (errors ${across.errors}, non-2xx ${across.non2xx}, timeouts ${across.timeouts}); control plane back in ${fmt(restart.restartSeconds)} s, service ${restart.state}`,
  );
}

function mkdirResults(lines: string[]): void {
  const dir = join(ROOT, 'bench', 'results');
  try {
    writeFileSync(join(dir, 'deploy.txt'), `${lines.join('\n')}\n`);
  } catch {
    // results folder absent: printing is enough
  }
}

try {
  await main();
} finally {
  await stopControlPlane(wsDir).catch(() => undefined);
  execFileSync(
    process.execPath,
    [join(ROOT, 'bin', 'berth.js'), '--workspace', wsDir, 'server', 'stop', '--all'],
    {
      stdio: 'ignore',
    },
  );
  rmSync(work, { recursive: true, force: true });
}
