import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildLinearModel, writeModel } from '../fixtures/models/onnx-model-builder.js';
import { BERTH_BIN, runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/temp-dir.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/batch/', import.meta.url));
const SLOW_IC = join(FIXTURES, 'slow-log.inferenceconfig.json');

interface Checkpoint {
  state: string;
  items: number;
  outputBytes: number;
}

function linearModelDir(dir: string): string {
  const modelDir = join(dir, 'linear');
  writeModel(modelDir, 'linear.onnx', buildLinearModel());
  return modelDir;
}

/** Items for slow-log.js: each appends its id to `log` when scored. */
/** `berth batch run` of the slow-log entry script: mini-batches of 10 on 2 workers. */
function slowRunArgs(model: string, input: string, output: string): string[] {
  return [
    'batch',
    'run',
    '--model-dir',
    model,
    '--ic',
    SLOW_IC,
    '--input',
    input,
    '--output',
    output,
    '--mini-batch-size',
    '10',
    '--workers',
    '2',
  ];
}

function writeSlowInput(path: string, log: string, n: number): void {
  writeFileSync(
    path,
    `${Array.from({ length: n }, (_, i) => JSON.stringify({ id: i + 1, log })).join('\n')}\n`,
  );
}

function startCli(args: string[]): {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: string | null; stderr: string }>;
} {
  const child = spawn(process.execPath, [BERTH_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  child.stdout?.resume();
  const done = new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, done };
}

/** Waits until the run's checkpoint counts at least `items` committed items. */
async function waitForCommitted(checkpoint: string, items: number, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (existsSync(checkpoint)) {
      try {
        if ((JSON.parse(readFileSync(checkpoint, 'utf8')) as Checkpoint).items >= items) return;
      } catch {
        // replaced while being read
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`the checkpoint never counted ${items} items`);
}

function scoredCounts(log: string): Map<number, number> {
  const counts = new Map<number, number>();
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    if (line) counts.set(Number(line), (counts.get(Number(line)) ?? 0) + 1);
  }
  return counts;
}

test('when berth batch run scores a registered model then --json prints the summary and the output holds every row', async (t) => {
  const dir = tempDir(t);
  const ws = join(dir, 'ws');
  const reg = await runCli([
    'model',
    'register',
    '-n',
    'linear',
    '-p',
    linearModelDir(dir),
    '--workspace',
    ws,
    '--json',
  ]);
  assert.equal(reg.code, 0, reg.stderr);
  const input = join(dir, 'rows.jsonl');
  writeFileSync(input, '[1,0,0,0,0,0,0,0,0,0]\n[0,1,0,0,0,0,0,0,0,0]\n[0,0,0,0,0,0,0,0,0,2]\n');
  const output = join(dir, 'out.jsonl');
  const res = await runCli([
    'batch',
    'run',
    '-m',
    'linear:1',
    '--input',
    input,
    '--output',
    output,
    '--workspace',
    ws,
    '--json',
  ]);
  assert.equal(res.code, 0, res.stderr);
  const summary = res.json<{
    status: string;
    items: number;
    failures: number;
    itemsPerSecond: number;
    durationMs: number;
  }>();
  assert.equal(summary.status, 'completed');
  assert.equal(summary.items, 3);
  assert.equal(summary.failures, 0);
  assert.equal(typeof summary.itemsPerSecond, 'number');
  assert.equal(typeof summary.durationMs, 'number');
  const lines = readFileSync(output, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { row: number; prediction: number });
  assert.deepEqual(
    lines.map((l) => l.row),
    [1, 2, 3],
  );
  assert.deepEqual(
    lines.map((l) => Math.round(l.prediction * 1e5) / 1e5),
    [0.6, 0.7, 2.5],
  );
});

test('when a run is killed with SIGKILL mid-run then --resume completes it with output identical to an uninterrupted run', async (t) => {
  const dir = tempDir(t);
  const model = linearModelDir(dir);
  const n = 3000;
  // reference: an uninterrupted run over the same items (its own log)
  const refInput = join(dir, 'ref.jsonl');
  writeSlowInput(refInput, join(dir, 'ref.log'), n);
  const refOutput = join(dir, 'ref-out.jsonl');
  const ref = await runCli(slowRunArgs(model, refInput, refOutput), { timeoutMs: 120_000 });
  assert.equal(ref.code, 0, ref.stderr);

  const input = join(dir, 'rows.jsonl');
  const log = join(dir, 'scored.log');
  writeSlowInput(input, log, n);
  const output = join(dir, 'out.jsonl');
  const args = slowRunArgs(model, input, output);
  const run = startCli(args);
  t.after(() => run.child.kill('SIGKILL'));
  await waitForCommitted(`${output}.checkpoint.json`, 200);
  run.child.kill('SIGKILL');
  const killed = await run.done;
  assert.equal(killed.signal, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 500)); // the orphaned workers notice and exit
  const atKill = JSON.parse(readFileSync(`${output}.checkpoint.json`, 'utf8')) as Checkpoint;
  assert.equal(atKill.state, 'running');
  assert.ok(atKill.items >= 200 && atKill.items < n, `killed mid-run at ${atKill.items} items`);

  const resumed = await runCli([...args, '--resume', '--json'], { timeoutMs: 120_000 });
  assert.equal(resumed.code, 0, resumed.stderr);
  const summary = resumed.json<{ items: number; resumedFrom: number; status: string }>();
  assert.equal(summary.status, 'completed');
  assert.equal(summary.resumedFrom, atKill.items);
  assert.equal(summary.items, n);
  assert.equal(
    readFileSync(output, 'utf8'),
    readFileSync(refOutput, 'utf8'),
    'byte-identical to the uninterrupted run',
  );

  const counts = scoredCounts(log);
  for (let id = 1; id <= n; id++) {
    const c = counts.get(id) ?? 0;
    assert.ok(c >= 1, `item ${id} was never scored`);
    if (id <= atKill.items)
      assert.equal(c, 1, `item ${id} was committed before the kill but scored ${c} times`);
  }
});

test('when a run gets Ctrl-C then it commits, exits 130 with a hint, and --resume finishes it', async (t) => {
  const dir = tempDir(t);
  const model = linearModelDir(dir);
  const input = join(dir, 'rows.jsonl');
  writeSlowInput(input, join(dir, 'scored.log'), 2000);
  const output = join(dir, 'out.jsonl');
  const args = slowRunArgs(model, input, output);
  const run = startCli(args);
  t.after(() => run.child.kill('SIGKILL'));
  await waitForCommitted(`${output}.checkpoint.json`, 100);
  run.child.kill('SIGINT');
  const stopped = await run.done;
  assert.equal(stopped.code, 130, stopped.stderr);
  assert.match(stopped.stderr, /--resume/);
  const cp = JSON.parse(readFileSync(`${output}.checkpoint.json`, 'utf8')) as Checkpoint;
  assert.equal(cp.state, 'interrupted');
  assert.equal(readFileSync(output).length, cp.outputBytes, 'nothing past the checkpoint');
  const resumed = await runCli([...args, '--resume', '--json'], { timeoutMs: 120_000 });
  assert.equal(resumed.code, 0, resumed.stderr);
  const lines = readFileSync(output, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { row: number; prediction: number });
  assert.equal(lines.length, 2000);
  assert.ok(lines.every((l, i) => l.row === i + 1 && l.prediction === (i + 1) * 2));
});

test('when failures exceed --error-threshold then the CLI exits 9 with BATCH_FAILED and says what failed', async (t) => {
  const dir = tempDir(t);
  const input = join(dir, 'rows.jsonl');
  writeFileSync(input, '[1,2,3,4,5,6,7,8,9,10]\n{"oops":\n[1]\n[0,0,0,0,0,0,0,0,0,0]\n');
  const output = join(dir, 'out.jsonl');
  const res = await runCli([
    'batch',
    'run',
    '--model-dir',
    linearModelDir(dir),
    '--input',
    input,
    '--output',
    output,
    '--error-threshold',
    '1',
    '--json',
  ]);
  assert.equal(res.code, 9);
  const err = JSON.parse(res.stderr.trim().split('\n').at(-1) as string) as {
    error: { code: string; message: string; details: { summary: { failures: number } } };
  };
  assert.equal(err.error.code, 'BATCH_FAILED');
  assert.match(err.error.message, /2 items failed, more than --error-threshold 1/);
  assert.match(err.error.message, /line 2: malformed JSON/);
  assert.equal(err.error.details.summary.failures, 2);

  const human = await runCli([
    'batch',
    'run',
    '--model-dir',
    linearModelDir(dir),
    '--input',
    input,
    '--output',
    output,
  ]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /failures: +2/);
  assert.match(human.stdout, /malformed: +1 \(lines 2\)/);
});

test('when flags are wrong then the CLI exits 2 with INVALID_ARGUMENT before starting workers', async (t) => {
  const dir = tempDir(t);
  const input = join(dir, 'rows.jsonl');
  writeFileSync(input, '[1]\n');
  const cases: string[][] = [
    ['--model-dir', dir, '--input', input, '--output', join(dir, 'o.jsonl'), '--workers', '0'],
    ['--model-dir', dir, '--input', input, '--output', join(dir, 'o.jsonl'), '--mini-batch-size', 'ten'],
    ['--input', input, '--output', join(dir, 'o.jsonl')],
    ['--model-dir', dir, '--input', input, '--output', input],
  ];
  for (const args of cases) {
    const res = await runCli(['batch', 'run', ...args, '--json']);
    assert.equal(res.code, 2, args.join(' '));
    assert.equal(
      (JSON.parse(res.stderr) as { error: { code: string } }).error.code,
      'INVALID_ARGUMENT',
      args.join(' '),
    );
  }
  const missing = await runCli([
    'batch',
    'run',
    '--model-dir',
    dir,
    '--input',
    join(dir, 'nope.jsonl'),
    '--output',
    join(dir, 'o.jsonl'),
    '--json',
  ]);
  assert.equal(missing.code, 2);
  assert.equal((JSON.parse(missing.stderr) as { error: { code: string } }).error.code, 'PATH_NOT_FOUND');
});
