import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/temp-dir.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

test('when the README quickstart runs then it registers, deploys, scores and stops the example', (t) => {
  const ws = join(tempDir(t), 'ws');
  const run = spawnSync('bash', ['examples/quickstart.sh'], {
    cwd: ROOT,
    env: { ...process.env, BERTH_QUICKSTART_WORKSPACE: ws, BERTH_WORKSPACE: '' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(run.status, 0, `quickstart failed:\n${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout, /Registered iris:1/);
  assert.match(run.stdout, /State:\s+Healthy/);
  assert.match(run.stdout, /iris-svc\s+Healthy\s+iris:1\s+1\/1/);
  // Three class probabilities per row, summing to 1, from the curl-equivalent call.
  const scored = run.stdout.match(/^\[\[([^\]]+)\]\]$/m);
  assert.ok(scored, 'a scoring answer');
  const probs = scored[1].split(',').map(Number);
  assert.equal(probs.length, 3);
  assert.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 1e-4);
  assert.match(run.stdout, /Stopped services: iris-svc/);
});
