import assert from 'node:assert/strict';
import type { Worker } from 'node:cluster';
import { once } from 'node:events';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  discardPreforkedWorker,
  preforkWorker,
  takePreforkedWorker,
} from '../../src/serving/worker-launch.js';

const HELLO = fileURLToPath(new URL('../fixtures/workers/hello-worker.cjs', import.meta.url));

/** A preforked worker does not keep its primary alive: the test holds the event loop open itself. */
function prefork(t: TestContext, execArgv: string[] = []): Worker {
  const hold = setInterval(() => {}, 1000);
  t.after(() => clearInterval(hold));
  const worker = preforkWorker(HELLO, execArgv);
  assert.ok(worker, 'a worker was forked');
  return worker;
}

async function waitGone(worker: Worker): Promise<void> {
  if (worker.isDead()) return;
  await once(worker, 'exit');
}

test('when a preforked worker is taken then it is the same process and what it said meanwhile is kept', async (t) => {
  const forked = prefork(t);
  await once(forked, 'online');
  await new Promise((r) => setTimeout(r, 300)); // it says hello before anyone listens
  const taken = takePreforkedWorker(HELLO, []);
  assert.ok(taken);
  assert.equal(taken.worker, forked);
  assert.deepEqual(
    taken.messages.map(([m]) => m),
    [{ type: 'hello' }],
  );
  assert.equal(takePreforkedWorker(HELLO, []), undefined, 'taken once');
  taken.worker.process.kill('SIGTERM');
  await waitGone(forked);
});

test('when the node flags differ from the preforked ones then it is killed and nothing is taken', async (t) => {
  const forked = prefork(t);
  assert.equal(takePreforkedWorker(HELLO, ['--max-semi-space-size=8']), undefined);
  await waitGone(forked);
});

test('when nobody takes the preforked worker then discarding it kills it', async (t) => {
  const forked = prefork(t);
  assert.equal(forked.isDead(), false);
  discardPreforkedWorker();
  await waitGone(forked);
  assert.equal(takePreforkedWorker(HELLO, []), undefined);
});
