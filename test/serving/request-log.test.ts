import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { RequestLog } from '../../src/serving/routes/request-log.js';

function capture(): { stream: Writable; text: () => string; lines: () => Record<string, unknown>[] } {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += chunk;
      cb();
    },
  });
  return {
    stream,
    text: () => text,
    lines: () =>
      text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
  };
}

const entry = { reqId: 'id-"1"', method: 'POST', route: '/score', status: 200, ms: 1.25 };

test('when request lines are batched then each is the JSON line pino itself writes, bindings included', () => {
  const direct = capture();
  const batched = capture();
  const a = pino({ name: 'svc' }, direct.stream).child({ replica: 1 });
  const b = pino({ name: 'svc' }, pino.multistream([{ stream: batched.stream, level: 'info' }])).child({
    replica: 1,
  });
  a.info(entry, 'request');
  const log = new RequestLog(b);
  log.add(entry);
  log.add({ ...entry, reqId: 'id-2', status: 500 });
  log.flush();
  const [want] = direct.lines();
  const got = batched.lines();
  assert.equal(got.length, 2);
  const { time: _t1, ...wantRest } = want;
  const { time: _t2, ...gotRest } = got[0];
  assert.deepEqual(gotRest, wantRest);
  assert.equal(got[1].status, 500);
  assert.equal(typeof got[0].time, 'number');
});

test('when the logger formats log objects itself then request lines still go through its formatter', () => {
  const out = capture();
  const log = new RequestLog(pino({ formatters: { log: (o) => ({ ...o, extra: true }) } }, out.stream));
  log.add(entry);
  log.flush();
  assert.equal(out.lines()[0].extra, true);
  assert.equal(out.lines()[0].reqId, 'id-"1"');
});

test('when info is disabled then nothing is written', () => {
  const out = capture();
  const log = new RequestLog(pino({ level: 'warn' }, out.stream));
  log.add(entry);
  log.flush();
  assert.equal(out.text(), '');
});
