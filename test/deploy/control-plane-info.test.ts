import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { acquireControlPlaneLock, isProcessAlive } from '../../src/deploy/control-plane-info.js';

/** A process killed while its parent never reaps it: it stays a zombie until the parent exits. */
async function zombie(t: import('node:test').TestContext): Promise<number> {
  // sh starts `sleep 30` in the background, then becomes `sleep 5` (exec), which never waits for it
  const parent = spawn('sh', ['-c', 'sleep 30 & exec sleep 5'], { stdio: 'ignore' });
  t.after(() => parent.kill('SIGKILL'));
  let child = 0;
  for (let i = 0; i < 100 && !child; i++) {
    await new Promise((r) => setTimeout(r, 20));
    const cmdline = readFileSync(`/proc/${parent.pid}/cmdline`, 'utf8');
    const children = readFileSync(`/proc/${parent.pid}/task/${parent.pid}/children`, 'utf8').trim();
    // only once the parent is `sleep 5`: before the exec, sh itself would reap the killed child
    if (cmdline.startsWith('sleep\0') && children) child = Number(children.split(' ')[0]);
  }
  assert.ok(child, 'the background process started');
  process.kill(child, 'SIGKILL');
  for (let i = 0; i < 50; i++) {
    const stat = readFileSync(`/proc/${child}/stat`, 'utf8');
    if (stat.charAt(stat.lastIndexOf(')') + 2) === 'Z') return child;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`process ${child} did not become a zombie`);
}

test('when a process was killed but not reaped yet then it does not count as alive', async (t) => {
  const pid = await zombie(t);
  assert.equal(isProcessAlive(pid), false);
  assert.equal(isProcessAlive(process.pid), true);
});

test('when the control plane lock is held by a killed, unreaped process then a new control plane takes it', async (t) => {
  const ws = mkdtempSync(join(tmpdir(), 'berth-lock-'));
  t.after(() => rmSync(ws, { recursive: true, force: true }));
  const pid = await zombie(t);
  writeFileSync(join(ws, 'control-plane.lock'), String(pid));
  assert.equal(acquireControlPlaneLock(ws), true);
  assert.equal(readFileSync(join(ws, 'control-plane.lock'), 'utf8'), String(process.pid));
});

test('when the control plane lock is held by a live process then it is refused', (t) => {
  const ws = mkdtempSync(join(tmpdir(), 'berth-lock-'));
  t.after(() => rmSync(ws, { recursive: true, force: true }));
  const holder = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.after(() => holder.kill('SIGKILL'));
  writeFileSync(join(ws, 'control-plane.lock'), String(holder.pid));
  assert.equal(acquireControlPlaneLock(ws), false);
});
