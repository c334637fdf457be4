import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
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

const run = promisify(execFile);
const WRITER = fileURLToPath(new URL('../fixtures/workers/request-log-writer.ts', import.meta.url));

const entry = { reqId: 'id-"1"', method: 'POST', route: '/score', status: 200, ms: 1.25 };
const add = (log: RequestLog, e: typeof entry): void => log.add(e.reqId, e.method, e.route, e.status, e.ms);

test('when request lines are batched then each is the JSON line pino itself writes, bindings included', () => {
  const direct = capture();
  const batched = capture();
  const a = pino({ name: 'svc' }, direct.stream).child({ replica: 1 });
  const b = pino({ name: 'svc' }, pino.multistream([{ stream: batched.stream, level: 'info' }])).child({
    replica: 1,
  });
  a.info(entry, 'request');
  const log = new RequestLog(b);
  add(log, entry);
  add(log, { ...entry, reqId: 'id-2', status: 500 });
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
  add(log, entry);
  log.flush();
  assert.equal(out.lines()[0].extra, true);
  assert.equal(out.lines()[0].reqId, 'id-"1"');
});

test('when info is disabled then nothing is written', () => {
  const out = capture();
  const log = new RequestLog(pino({ level: 'warn' }, out.stream));
  add(log, entry);
  log.flush();
  assert.equal(out.text(), '');
});

test('when many lines go through a real logger then stdout and the log file each get every line whole, escaped and in UTF-8', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-request-log-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'replica.log');
  const count = 3_000; // ~450 KB of lines: several arenas of 64 KiB
  const { stdout } = await run(process.execPath, ['--import', 'tsx', WRITER, file, String(count)]);
  for (const [where, text] of [
    ['stdout', stdout],
    ['log file', readFileSync(file, 'utf8')],
  ]) {
    assert.ok(text.endsWith('\n'), `${where} ends with a whole line`);
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, count + 2, where);
    const requests = lines.filter((l) => l.msg === 'request');
    assert.equal(requests.length, count, where);
    const seen = new Set<string>();
    for (const r of requests) {
      const i = Number(/^id-"?(\d+)/.exec(r.reqId)?.[1]);
      assert.equal(r.reqId, i % 7 === 3 ? `id-"${i}"-\u00e9\u4e2d\u{1f600}` : `id-${i}`, where);
      assert.deepEqual(
        [r.level, r.name, r.replica, r.generation, r.method, r.route, r.status, r.ms],
        [30, 'writer', 0, 1, 'POST', '/score', i % 5 === 0 ? 500 : 200, i / 100],
        where,
      );
      assert.equal(typeof r.time, 'number');
      seen.add(r.reqId);
    }
    assert.equal(seen.size, count, `${where}: no line twice`);
    assert.deepEqual(
      lines
        .filter((l) => l.msg !== 'request')
        .map((l) => l.msg)
        .sort(),
      ['after', 'before'],
    );
  }
});
