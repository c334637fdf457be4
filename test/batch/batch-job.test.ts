import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BatchJob, type BatchProgress } from '../../src/batch/index.js';
import { BerthError } from '../../src/core/errors.js';
import { Model, Workspace } from '../../src/sdk/index.js';
import {
  buildLinearModel,
  LINEAR_BIAS,
  LINEAR_WEIGHTS,
  writeModel,
} from '../fixtures/models/onnx-model-builder.js';
import { tempDir } from '../helpers/temp-dir.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/batch/', import.meta.url));
const ic = (name: string) => join(FIXTURES, `${name}.inferenceconfig.json`);

interface OutLine {
  row?: number;
  line?: number;
  file?: string;
  prediction?: unknown;
  error?: { code: string; message: string };
}

function readLines(path: string): OutLine[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as OutLine);
}

/** Deterministic feature rows for the linear model (10 features, 3 decimals). */
function rows(n: number, seed = 1): number[][] {
  let s = seed;
  return Array.from({ length: n }, () =>
    Array.from({ length: 10 }, () => {
      s = (s * 1103515245 + 12345) >>> 0;
      return Math.round((s / 4294967296 - 0.5) * 4000) / 1000;
    }),
  );
}

function linear(row: number[]): number {
  return row.reduce((acc, x, i) => acc + x * LINEAR_WEIGHTS[i], LINEAR_BIAS);
}

function linearModelDir(dir: string): string {
  const modelDir = join(dir, 'linear');
  writeModel(modelDir, 'linear.onnx', buildLinearModel());
  return modelDir;
}

test('when a JSON Lines file is scored by an ONNX model on 2 workers then every row has its prediction in input order', async (t) => {
  const dir = tempDir(t);
  const data = rows(500);
  const input = join(dir, 'rows.jsonl');
  writeFileSync(input, `${data.map((r) => JSON.stringify(r)).join('\n')}\n`);
  const progress: BatchProgress[] = [];
  const summary = await BatchJob.run(undefined, {
    modelDirs: [linearModelDir(dir)],
    input,
    output: join(dir, 'out', 'predictions.jsonl'),
    miniBatchSize: 7,
    workers: 2,
    onProgress: (p) => progress.push(p),
    progressIntervalMs: 10,
  });
  assert.equal(summary.status, 'completed');
  assert.equal(summary.items, 500);
  assert.equal(summary.failures, 0);
  assert.equal(summary.workers, 2);
  assert.equal(summary.inputKind, 'jsonl');
  assert.ok(summary.itemsPerSecond > 0);
  const out = readLines(join(dir, 'out', 'predictions.jsonl'));
  assert.deepEqual(
    out.map((o) => o.row),
    data.map((_, i) => i + 1),
  );
  for (const [i, o] of out.entries()) {
    assert.equal(typeof o.prediction, 'number');
    assert.ok(Math.abs((o.prediction as number) - linear(data[i])) < 1e-4, `row ${i + 1}`);
  }
  const last = progress.at(-1);
  assert.equal(last?.done, true);
  assert.equal(last?.items, 500);
  assert.equal(last?.fraction, 1);
});

test('when a file of several MiB is scored on 2 workers then the last, tapered chunks keep every row once and in order', async (t) => {
  const dir = tempDir(t);
  // about 4 MB: several full chunks (1 MiB), then chunks shrinking over the last MiBs; CRLF, blank
  // lines and a last line without a line break put the chunk boundaries on every kind of line end
  const data = rows(60_000, 7);
  const lines = data.map((r, i) => `${JSON.stringify(r)}${i % 997 === 0 ? '\r\n\n' : '\n'}`);
  const input = join(dir, 'rows.jsonl');
  writeFileSync(input, lines.join('').replace(/\n$/, ''));
  const output = join(dir, 'predictions.jsonl');
  const summary = await BatchJob.run(undefined, {
    modelDirs: [linearModelDir(dir)],
    input,
    output,
    workers: 2,
  });
  assert.equal(summary.status, 'completed');
  assert.equal(summary.items, data.length);
  assert.equal(summary.failures, 0);
  const out = readLines(output);
  assert.deepEqual(
    out.map((o) => o.row),
    data.map((_, i) => i + 1),
  );
  for (const [i, o] of out.entries())
    assert.ok(Math.abs((o.prediction as number) - linear(data[i])) < 1e-4, `row ${i + 1}`);
});

test('when a CSV file is scored then the header names the columns and each row is one tensor row', async (t) => {
  const dir = tempDir(t);
  const data = rows(40, 3);
  const header = Array.from({ length: 10 }, (_, i) => `f${i}`).join(',');
  const input = join(dir, 'rows.csv');
  writeFileSync(input, `${header}\r\n${data.map((r) => r.join(',')).join('\r\n')}\r\n`);
  const summary = await BatchJob.run(undefined, {
    modelDirs: [linearModelDir(dir)],
    input,
    output: join(dir, 'out.jsonl'),
    miniBatchSize: 16,
    workers: 2,
  });
  assert.equal(summary.inputKind, 'csv');
  assert.equal(summary.items, 40);
  const out = readLines(join(dir, 'out.jsonl'));
  for (const [i, o] of out.entries()) {
    assert.equal(o.row, i + 1);
    assert.ok(Math.abs((o.prediction as number) - linear(data[i])) < 1e-4);
  }
});

test('when a CSV file is scored by a node entry script then run() receives each row as an object of typed values', async (t) => {
  const dir = tempDir(t);
  const input = join(dir, 'rows.csv');
  writeFileSync(input, 'a,b,label\n1,2.5,x\n3,,"4"\n');
  await BatchJob.run(undefined, {
    modelDirs: [linearModelDir(dir)],
    inferenceConfig: ic('sum'),
    input,
    output: join(dir, 'out.jsonl'),
    workers: 1,
  });
  assert.deepEqual(readLines(join(dir, 'out.jsonl')), [
    { row: 1, prediction: 3.5 },
    { row: 2, prediction: 3 },
  ]);
});

test('when a folder is scored then each file is one item given as {name, bytes}, in name order, hidden files skipped', async (t) => {
  const dir = tempDir(t);
  const input = join(dir, 'docs');
  mkdirSync(join(input, 'sub'), { recursive: true });
  writeFileSync(join(input, 'b.txt'), 'bee');
  writeFileSync(join(input, 'a.txt'), 'ay');
  writeFileSync(join(input, 'sub', 'c.bin'), Buffer.from([0x63]));
  writeFileSync(join(input, '.DS_Store'), 'junk');
  const summary = await BatchJob.run(undefined, {
    modelDirs: [linearModelDir(dir)],
    inferenceConfig: ic('file-info'),
    input,
    output: join(dir, 'out.jsonl'),
    miniBatchSize: 2,
    workers: 2,
  });
  assert.equal(summary.inputKind, 'folder');
  assert.deepEqual(readLines(join(dir, 'out.jsonl')), [
    { file: 'a.txt', prediction: { name: 'a.txt', size: 2, text: 'ay' } },
    { file: 'b.txt', prediction: { name: 'b.txt', size: 3, text: 'bee' } },
    { file: 'sub/c.bin', prediction: { name: 'sub/c.bin', size: 1, text: 'c' } },
  ]);
});

test('when several jobs run at once in one process then no listeners pile up on its stderr', async (t) => {
  const dir = tempDir(t);
  const input = join(dir, 'rows.jsonl');
  writeFileSync(
    input,
    `${rows(40)
      .map((r) => JSON.stringify(r))
      .join('\n')}\n`,
  );
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const modelDir = linearModelDir(dir);
  const summaries = await Promise.all(
    [1, 2, 3, 4].map((i) =>
      BatchJob.run(undefined, {
        modelDirs: [modelDir],
        input,
        output: join(dir, `out-${i}.jsonl`),
        workers: 2,
      }),
    ),
  );
  assert.deepEqual(
    summaries.map((s) => s.items),
    [40, 40, 40, 40],
  );
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(
    warnings.filter((w) => w.startsWith('MaxListenersExceededWarning')),
    [],
  );
});

test('when the entry script exports runBatch then it gets whole mini-batches and init runs once per worker', async (t) => {
  const dir = tempDir(t);
  const input = join(dir, 'rows.jsonl');
  writeFileSync(input, `${Array.from({ length: 10 }, (_, i) => `[${i},1]`).join('\n')}\n{"fail":"nope"}\n`);
  const summary = await BatchJob.run(undefined, {
    modelDirs: [linearModelDir(dir)],
    inferenceConfig: ic('sum-batch'),
    input,
    output: join(dir, 'out.jsonl'),
    miniBatchSize: 4,
    workers: 1,
  });
  const out = readLines(join(dir, 'out.jsonl'));
  assert.equal(out.length, 11);
  assert.deepEqual(out[0], { row: 1, prediction: { sum: 1, batch: 4, inits: 1 } });
  assert.deepEqual(out[9], { row: 10, prediction: { sum: 10, batch: 3, inits: 1 } });
  assert.equal(out[10].error?.code, 'SCORING_FAILED');
  assert.match(out[10].error?.message ?? '', /nope/);
  assert.equal(summary.failures, 1);
});

test('when lines are malformed then they are reported with their line numbers and the other lines are scored', async (t) => {
  const dir = tempDir(t);
  const input = join(dir, 'rows.jsonl');
  const good = rows(3, 5).map((r) => JSON.stringify(r));
  writeFileSync(input, [good[0], '{"broken": ', good[1], '', '[1,2,3]', good[2]].join('\n'));
  const summary = await BatchJob.run(undefined, {
    modelDirs: [linearModelDir(dir)],
    input,
    output: join(dir, 'out.jsonl'),
    workers: 2,
  });
  assert.equal(summary.items, 5);
  assert.equal(summary.failures, 2);
  assert.equal(summary.malformed, 1);
  assert.deepEqual(summary.malformedLines, [2]);
  const out = readLines(join(dir, 'out.jsonl'));
  assert.deepEqual(
    out.map((o) => [o.row, o.error?.code ?? 'ok']),
    [
      [1, 'ok'],
      [2, 'BAD_REQUEST'],
      [3, 'ok'],
      [4, 'BAD_REQUEST'],
      [5, 'ok'],
    ],
  );
  assert.equal(out[1].line, 2);
  assert.match(out[1].error?.message ?? '', /^line 2: malformed JSON/);
  assert.equal(out[3].line, 5, 'the blank line 4 is no item, but line numbers count it');
  assert.match(out[3].error?.message ?? '', /3 values, but input "X" takes 10/);
});

test('when more items fail than --error-threshold then the run stops with BATCH_FAILED right after the item that crossed it', async (t) => {
  const dir = tempDir(t);
  const input = join(dir, 'rows.jsonl');
  const lines = Array.from({ length: 60 }, (_, i) =>
    [7, 20, 33, 50].includes(i + 1) ? `{"fail":"bad ${i + 1}"}` : `[${i + 1}]`,
  );
  writeFileSync(input, `${lines.join('\n')}\n`);
  const options = {
    modelDirs: [linearModelDir(dir)],
    inferenceConfig: ic('sum'),
    input,
    output: join(dir, 'out.jsonl'),
    miniBatchSize: 5,
    workers: 2,
  };
  const err = await BatchJob.run(undefined, { ...options, errorThreshold: 2 }).then(
    () => assert.fail('the run should stop'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof BerthError);
  assert.equal(err.code, 'BATCH_FAILED');
  assert.equal(err.exitCode, 9);
  assert.match(err.message, /3 items failed, more than --error-threshold 2/);
  const summary = (err.details as { summary: { status: string; items: number; failures: number } }).summary;
  assert.equal(summary.status, 'failed');
  assert.equal(summary.failures, 3);
  assert.equal(
    summary.items,
    35,
    'the output ends with the mini-batch holding the failure that crossed the threshold',
  );
  assert.equal(readLines(options.output).length, 35);

  const ok = await BatchJob.run(undefined, { ...options, errorThreshold: 4 });
  assert.equal(ok.status, 'completed');
  assert.equal(ok.failures, 4);
  assert.equal(readLines(options.output).length, 60);
});

test('when a worker process dies while scoring then it is replaced and its mini-batch retried once; dying again fails those items', async (t) => {
  const dir = tempDir(t);
  const input = join(dir, 'rows.jsonl');
  const marker = join(dir, 'crashed-once');
  const items = Array.from({ length: 30 }, (_, i) => ({ id: i + 1 }) as Record<string, unknown>);
  items[9].crashOnce = marker;
  items[21].crashAlways = true;
  writeFileSync(input, `${items.map((i) => JSON.stringify(i)).join('\n')}\n`);
  const summary = await BatchJob.run(undefined, {
    modelDirs: [linearModelDir(dir)],
    inferenceConfig: ic('crashy'),
    input,
    output: join(dir, 'out.jsonl'),
    miniBatchSize: 4,
    workers: 2,
  });
  assert.ok(existsSync(marker), 'the first worker died on item 10');
  assert.equal(summary.status, 'completed');
  assert.ok(summary.workerRestarts >= 3, `restarts: ${summary.workerRestarts}`);
  const out = readLines(join(dir, 'out.jsonl'));
  assert.deepEqual(
    out.map((o) => o.row),
    items.map((_, i) => i + 1),
  );
  assert.equal(out[9].prediction, 10, 'the retried mini-batch scored item 10');
  // items 21-24 share the mini-batch whose worker died twice
  for (const i of [20, 21, 22, 23]) {
    assert.equal(out[i].error?.code, 'SCORING_FAILED');
    assert.match(out[i].error?.message ?? '', /crashed .* also when retried/);
  }
  assert.equal(summary.failures, 4);
  assert.equal(out[24].prediction, 25);
});

test('when the job is cancelled then it resumes from its checkpoint into the same output as an uninterrupted run', async (t) => {
  const dir = tempDir(t);
  const input = join(dir, 'rows.jsonl');
  writeFileSync(
    input,
    `${rows(3000, 9)
      .map((r) => JSON.stringify(r))
      .join('\n')}\n`,
  );
  const modelDirs = [linearModelDir(dir)];
  const full = await BatchJob.run(undefined, {
    modelDirs,
    input,
    output: join(dir, 'full.jsonl'),
    miniBatchSize: 10,
    workers: 2,
  });
  assert.equal(full.items, 3000);

  const output = join(dir, 'resumed.jsonl');
  const job = BatchJob.start(undefined, { modelDirs, input, output, miniBatchSize: 10, workers: 1 });
  job.once('progress', () => job.cancel());
  const first = await job.result;
  if (first.status === 'interrupted') assert.ok(first.items < 3000);
  const second = await BatchJob.run(undefined, {
    modelDirs,
    input,
    output,
    miniBatchSize: 10,
    workers: 2,
    resume: true,
  });
  assert.equal(second.status, 'completed');
  assert.equal(second.resumedFrom, first.items);
  assert.equal(second.items, 3000);
  assert.equal(readFileSync(output, 'utf8'), readFileSync(join(dir, 'full.jsonl'), 'utf8'));
  const again = await BatchJob.run(undefined, { modelDirs, input, output, resume: true });
  assert.equal(again.items, 3000, 'resuming a completed run has nothing left to do');
});

test('when models are registered in a workspace then BatchJob.run resolves NAME:VERSION', async (t) => {
  const dir = tempDir(t);
  const ws = Workspace.open(join(dir, 'ws'));
  t.after(() => ws.close());
  await Model.register(ws, { name: 'linear', path: linearModelDir(dir) });
  const input = join(dir, 'rows.jsonl');
  // a row, or a /score body holding one row, or the row under the input's name
  writeFileSync(
    input,
    '[1,0,0,0,0,0,0,0,0,0]\n{"data":[[0,1,0,0,0,0,0,0,0,0]]}\n{"X":[0,0,1,0,0,0,0,0,0,0]}\n',
  );
  const summary = await BatchJob.run(ws, {
    models: ['linear:1'],
    input,
    output: join(dir, 'out.jsonl'),
    workers: 1,
  });
  assert.equal(summary.items, 3);
  assert.equal(summary.failures, 0);
  const predictions = readLines(join(dir, 'out.jsonl')).map(
    (l) => Math.round((l.prediction as number) * 1e5) / 1e5,
  );
  assert.deepEqual(predictions, [0.6, 0.7, 0.8]);
  await assert.rejects(
    BatchJob.run(ws, { models: ['linear:9'], input, output: join(dir, 'out.jsonl') }),
    (e: unknown) => e instanceof BerthError && e.code === 'MODEL_NOT_FOUND',
  );
});

test('when the entry script is missing then the run fails with ENTRY_SCRIPT_NOT_FOUND before scoring anything', async (t) => {
  const dir = tempDir(t);
  const input = join(dir, 'rows.jsonl');
  writeFileSync(input, '[1]\n');
  writeFileSync(join(dir, 'ic.json'), JSON.stringify({ runtime: 'node', entryScript: 'missing.js' }));
  await assert.rejects(
    BatchJob.run(undefined, {
      modelDirs: [linearModelDir(dir)],
      inferenceConfig: join(dir, 'ic.json'),
      input,
      output: join(dir, 'out.jsonl'),
    }),
    (e: unknown) => e instanceof BerthError && e.code === 'ENTRY_SCRIPT_NOT_FOUND' && e.exitCode === 2,
  );
});

test('when the python runtime scores JSON lines and files then run(raw) gets the line text or the file bytes', {
  skip: existsSync('/usr/bin/python3') ? false : 'needs /usr/bin/python3 (Debian)',
}, async (t) => {
  const dir = tempDir(t);
  const input = join(dir, 'rows.jsonl');
  writeFileSync(input, '[1,2]\n[3,4]\n');
  const modelDirs = [linearModelDir(dir)];
  await BatchJob.run(undefined, {
    modelDirs,
    inferenceConfig: ic('score-py'),
    input,
    output: join(dir, 'out.jsonl'),
    workers: 2,
  });
  assert.deepEqual(readLines(join(dir, 'out.jsonl')), [
    { row: 1, prediction: 103 },
    { row: 2, prediction: 107 },
  ]);
  const files = join(dir, 'files');
  mkdirSync(files);
  writeFileSync(join(files, 'a.bin'), Buffer.from([1, 2, 3]));
  await BatchJob.run(undefined, {
    modelDirs,
    inferenceConfig: ic('score-py'),
    input: files,
    output: join(dir, 'files.jsonl'),
    workers: 1,
  });
  assert.deepEqual(readLines(join(dir, 'files.jsonl')), [{ file: 'a.bin', prediction: { size: 3 } }]);
});
