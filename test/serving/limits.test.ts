import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BearerAuth } from '../../src/serving/auth.js';
import { AdmissionQueue, type QueuedRequest } from '../../src/serving/limits.js';

function request(log: string[], name: string): QueuedRequest {
  return { start: () => log.push(`start ${name}`), overloaded: () => log.push(`overloaded ${name}`) };
}

test('when slots are taken then requests queue up to the bound, start in order, and the rest are overloaded', () => {
  const log: string[] = [];
  const q = new AdmissionQueue(1, 10_000, 2);
  assert.equal(q.enter(request(log, 'a')), true);
  assert.equal(q.enter(request(log, 'b')), false);
  const c = request(log, 'c');
  assert.equal(q.enter(c), false);
  assert.equal(q.enter(request(log, 'd')), false);
  assert.deepEqual(log, ['overloaded d']);
  assert.equal(q.queued, 2);
  q.cancel(c);
  q.leave();
  assert.deepEqual(log, ['overloaded d', 'start b']);
  assert.equal(q.running, 1);
  q.leave();
  assert.equal(q.running, 0);
  assert.equal(q.queued, 0);
});

test('when a queued request waits longer than maxWaitMs then it is overloaded', async () => {
  const log: string[] = [];
  const q = new AdmissionQueue(1, 20);
  q.enter(request(log, 'a'));
  q.enter(request(log, 'b'));
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(log, ['overloaded b']);
  assert.equal(q.queued, 0);
});

test('when the queue wait is 0 then a full replica answers overloaded at once', () => {
  const log: string[] = [];
  const q = new AdmissionQueue(1, 0);
  q.enter(request(log, 'a'));
  q.enter(request(log, 'b'));
  assert.deepEqual(log, ['overloaded b']);
});

test('when keys are configured then only an exact Bearer key passes', () => {
  const auth = new BearerAuth(['k1-primary', 'k2-secondary']);
  assert.equal(auth.enabled, true);
  assert.equal(auth.check('Bearer k1-primary'), true);
  assert.equal(auth.check('bearer k2-secondary'), true);
  assert.equal(auth.check('Bearer k1-primar'), false);
  assert.equal(auth.check('Bearer '), false);
  assert.equal(auth.check('k1-primary'), false);
  assert.equal(auth.check(undefined), false);
  assert.equal(new BearerAuth([]).check(undefined), true);
});

test('when deadlines pass then the sweeper expires exactly those, and deleted ones never', async () => {
  const { DeadlineSweeper } = await import('../../src/serving/limits.js');
  const sweeper = new DeadlineSweeper(5);
  const expired: string[] = [];
  const item = (name: string, inMs: number) => ({
    deadline: performance.now() + inMs,
    expire: () => expired.push(name),
    deadlinePrev: null,
    deadlineNext: null,
  });
  const a = item('a', 10);
  const b = item('b', 10);
  const c = item('c', 10_000);
  const d = item('d', 10);
  for (const x of [a, b, c, d]) sweeper.add(x);
  sweeper.delete(b);
  sweeper.delete(b);
  await new Promise((r) => setTimeout(r, 80));
  assert.deepEqual(expired.sort(), ['a', 'd']);
  sweeper.delete(c);
  sweeper.delete(a);
  await new Promise((r) => setTimeout(r, 30));
  assert.deepEqual(expired.sort(), ['a', 'd']);
});
