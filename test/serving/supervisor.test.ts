import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { tempDir } from '../helpers/temp-dir.js';
import {
  ENTRY_SCRIPTS,
  loadLoop,
  nodeService,
  postFresh,
  postJson,
  readState,
  startServe,
  waitFor,
} from './supervisor-harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Asks the service until `n` distinct worker pids answered. */
async function workerPids(url: string, n: number): Promise<number[]> {
  const pids = new Set<number>();
  await waitFor(async () => {
    const r = await postFresh(`${url}/score`, {});
    pids.add(r.body.pid as number);
    return pids.size >= n;
  }, `${n} workers to answer`);
  return [...pids];
}

/** POSTs `{}` with `agent`; tells whether the request went on a reused (keep-alive) connection. */
function postOn(
  agent: Agent,
  url: string,
): Promise<{ status: number; body: Record<string, unknown>; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), reused: req.reusedSocket }),
        );
      },
    );
    req.on('error', reject);
    req.end('{}');
  });
}

function metric(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

/** Writes `DIR/spec.json` serving the model folder `DIR/m` (nodeService's) with `script`; returns its path. */
function writeSpec(dir: string, script: string, extra: Record<string, unknown> = {}) {
  const modelDir = join(dir, 'm');
  const spec = {
    name: 'svc',
    models: [{ name: 'm', version: 1, path: modelDir }],
    inferenceConfig: { runtime: 'node', entryScript: join(ENTRY_SCRIPTS, script) },
    host: '127.0.0.1',
    port: 0,
    replicas: 2,
    limits: { scoringTimeoutMs: 5000 },
    ...extra,
  };
  writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));
  return join(dir, 'spec.json');
}

describe('berth serve supervisor', { concurrency: 1 }, () => {
  test('when a worker of two is SIGKILLed under load then the other keeps serving and it is replaced', async (t) => {
    const dir = tempDir(t);
    const { modelDir, ic } = nodeService(dir, 'sv-control.js');
    const stateFile = join(dir, 'state.json');
    const s = await startServe(t, [
      '--model-dir',
      modelDir,
      '--ic',
      ic,
      '--port',
      '0',
      '--replicas',
      '2',
      '--state-file',
      stateFile,
    ]);
    const [victim] = await workerPids(s.url, 2);

    const load = loadLoop(`${s.url}/score`, { x: 1 }, 4);
    await sleep(300);
    const killedAt = Date.now();
    process.kill(victim, 'SIGKILL');
    await waitFor(
      () => readState(stateFile)?.restarts === 1 && readState(stateFile)?.replicas.ready === 2,
      'a replacement',
    );
    await sleep(300);
    const results = await load.stop();

    const failed = results.filter((r) => !r.ok);
    // Only requests on the killed worker's own connections may fail (at most one per connection).
    assert.ok(failed.length <= 4, `failed: ${JSON.stringify(failed)}`);
    const after = results.filter((r) => r.ok && r.at > killedAt);
    assert.ok(after.length > 10, `requests succeeded after the kill: ${after.length}`);
    assert.ok(after.every((r) => r.body?.pid !== victim));
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    assert.equal(metric(metrics, 'berth_replica_restarts'), 1);
    assert.equal(metric(metrics, 'berth_replicas_ready'), 2);
    assert.equal((await s.stop()).code, 0);
  });

  test('when run() loops forever then the request gets 504, the worker is replaced and the next request succeeds', async (t) => {
    const dir = tempDir(t);
    const { modelDir, ic } = nodeService(dir, 'sv-control.js');
    const stateFile = join(dir, 'state.json');
    const logFile = join(dir, 'service.log');
    const s = await startServe(t, [
      '--model-dir',
      modelDir,
      '--ic',
      ic,
      '--port',
      '0',
      '--scoring-timeout-ms',
      '1000',
      '--state-file',
      stateFile,
      '--log-file',
      logFile,
    ]);
    const [before] = await workerPids(s.url, 1);

    const stuck = await postJson(`${s.url}/score`, { spin: true });
    assert.equal(stuck.status, 504);
    assert.equal((stuck.body.error as { code: string }).code, 'SCORING_TIMEOUT');

    // No waiting: with one replica the port stays open and the request waits for the replacement.
    const next = await postJson(`${s.url}/score`, { x: 2 });
    assert.equal(next.status, 200);
    assert.notEqual(next.body.pid, before);
    assert.equal(readState(stateFile)?.restarts, 1);
    assert.match(readFileSync(logFile, 'utf8'), /blocked for \d+ ms, longer than scoringTimeoutMs/);
    assert.equal((await s.stop()).code, 0);
  });

  test("when the spec says logFileOnly then every JSON line, the stall watchdog's too, goes to the log file only", async (t) => {
    const dir = tempDir(t);
    nodeService(dir, 'sv-control.js');
    const logFile = join(dir, 'service.log');
    const specFile = writeSpec(dir, 'sv-control.js', {
      replicas: 1,
      limits: { scoringTimeoutMs: 1000 },
      logFile,
      logFileOnly: true,
    });
    const s = await startServe(t, ['--spec', specFile]);
    // fresh connections: a kept-alive one would die with the replica the watchdog kills
    assert.equal((await postFresh(`${s.url}/score`, { x: 1 })).status, 200);
    assert.equal((await postFresh(`${s.url}/score`, { spin: true })).status, 504);
    assert.equal((await postFresh(`${s.url}/score`, { x: 2 })).status, 200);
    assert.equal((await s.stop()).code, 0);
    const logged = readFileSync(logFile, 'utf8');
    assert.match(logged, /"msg":"request"/);
    assert.match(logged, /blocked for \d+ ms, longer than scoringTimeoutMs/);
    assert.doesNotMatch(s.stdout(), /"level":/, `stdout has no JSON line:\n${s.stdout()}`);
    assert.match(s.stdout(), /Listening on/);
  });

  test('when a worker exits in run() then the client gets an error and later requests succeed', async (t) => {
    const dir = tempDir(t);
    const { modelDir, ic } = nodeService(dir, 'sv-control.js');
    const stateFile = join(dir, 'state.json');
    const s = await startServe(t, [
      '--model-dir',
      modelDir,
      '--ic',
      ic,
      '--port',
      '0',
      '--state-file',
      stateFile,
    ]);
    await assert.rejects(postJson(`${s.url}/score`, { exit: 3 }));
    const next = await postJson(`${s.url}/score`, { x: 3 });
    assert.equal(next.status, 200);
    await waitFor(() => readState(stateFile)?.restarts === 1, 'restarts = 1');
    assert.equal((await s.stop()).code, 0);
  });

  test('when init throws then the service is not ready, gives up after 3 tries and exits 9 with the stack logged', async (t) => {
    const dir = tempDir(t);
    const { modelDir, ic } = nodeService(dir, 'throws-in-init.js');
    const stateFile = join(dir, 'state.json');
    const logFile = join(dir, 'service.log');
    const s = await startServe(
      t,
      ['--model-dir', modelDir, '--ic', ic, '--port', '0', '--state-file', stateFile, '--log-file', logFile],
      { waitListening: false },
    );
    const port = await waitFor(() => readState(stateFile)?.port, 'the state file');
    const ready = await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined);
    if (ready) {
      assert.equal(ready.status, 503);
      assert.equal(((await ready.json()) as { error: { code: string } }).error.code, 'NOT_READY');
    }
    const { code } = await s.exited;
    assert.equal(code, 9);
    assert.match(s.stderr(), /Code: {2}INIT_FAILED/);
    assert.match(s.stderr(), /cannot open the model file/);
    assert.doesNotMatch(s.stdout(), /Listening on/);
    const state = readState(stateFile)!;
    assert.equal(state.failed, true);
    assert.equal(state.ready, false);
    assert.match(state.error ?? '', /3 times.*cannot open the model file/);
    const log = readFileSync(logFile, 'utf8');
    assert.equal(log.match(/"msg":"init failed: /g)?.length, 3);
    assert.match(log, /throws-in-init\.js:\d+/, 'the stack names the entry script');
  });

  test('when the entry script prints with console in init and run then the service log has those lines', async (t) => {
    const dir = tempDir(t);
    const { modelDir, ic } = nodeService(dir, 'prints-console.js');
    const logFile = join(dir, 'service.log');
    const s = await startServe(t, [
      '--model-dir',
      modelDir,
      '--ic',
      ic,
      '--port',
      '0',
      '--replicas',
      '1',
      '--log-file',
      logFile,
    ]);
    assert.equal((await postJson(`${s.url}/score`, { x: 1 })).status, 200);
    const printed = await waitFor(() => {
      const lines = readFileSync(logFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { source?: string; msg: string; level: number });
      const mine = lines.filter((l) => l.source === 'entry-script');
      return mine.length >= 3 ? mine : undefined;
    }, 'the entry script lines in the log');
    assert.deepEqual(
      printed.map((l) => [l.level, l.msg]),
      [
        [30, 'init says hello'],
        [40, 'init warns'],
        [50, 'run saw { x: 1 }'],
      ],
    );
    assert.equal((await s.stop()).code, 0);
  });

  test('when one replica of two keeps failing init then the service gives up instead of waiting forever', async (t) => {
    const dir = tempDir(t);
    const { modelDir, ic } = nodeService(dir, 'sv-init-once.js');
    const stateFile = join(dir, 'state.json');
    const s = await startServe(
      t,
      ['--model-dir', modelDir, '--ic', ic, '--port', '0', '--replicas', '2', '--state-file', stateFile],
      {
        waitListening: false,
        env: { SV_LOCK_FILE: join(dir, 'lock') },
      },
    );
    const { code } = await s.exited;
    assert.equal(code, 9);
    assert.match(s.stderr(), /3 times.*another replica holds the lock/);
    assert.equal(readState(stateFile)?.failed, true);
  });

  test('when the entry script is missing then it gives up at once with ENTRY_SCRIPT_NOT_FOUND', async (t) => {
    const dir = tempDir(t);
    const { modelDir } = nodeService(dir, 'sv-control.js');
    const ic = join(dir, 'ic.json');
    writeFileSync(ic, JSON.stringify({ entryScript: 'nowhere.js' }));
    const s = await startServe(t, ['--model-dir', modelDir, '--ic', ic, '--port', '0'], {
      waitListening: false,
    });
    const { code } = await s.exited;
    assert.equal(code, 2);
    assert.match(s.stderr(), /Code: {2}ENTRY_SCRIPT_NOT_FOUND/);
    assert.doesNotMatch(s.stderr(), /3 times/);
  });

  test('when SIGTERM arrives during requests then they complete and the server exits 0', async (t) => {
    const dir = tempDir(t);
    const { modelDir, ic } = nodeService(dir, 'sv-control.js');
    const s = await startServe(t, ['--model-dir', modelDir, '--ic', ic, '--port', '0', '--replicas', '2']);
    const inFlight = Array.from({ length: 4 }, (_, i) => postJson(`${s.url}/score`, { sleepMs: 800, i }));
    await sleep(250);
    s.child.kill('SIGTERM');
    const answers = await Promise.all(inFlight);
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200, 200],
    );
    const { code } = await s.exited;
    assert.equal(code, 0);
    await assert.rejects(fetch(`${s.url}/health/live`));
  });

  test('when SIGTERM arrives while a keep-alive connection is idle then its next request on it is still answered', async (t) => {
    const dir = tempDir(t);
    const { modelDir, ic } = nodeService(dir, 'sv-control.js');
    const s = await startServe(t, ['--model-dir', modelDir, '--ic', ic, '--port', '0', '--replicas', '1']);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    t.after(() => agent.destroy());
    assert.equal((await postOn(agent, `${s.url}/score`)).status, 200);
    s.child.kill('SIGTERM');
    // Closing idle connections at once would race this request (the client sees "other side closed").
    await sleep(300);
    const next = await postOn(agent, `${s.url}/score`);
    assert.equal(next.status, 200);
    assert.equal(next.reused, true, 'the same connection, not closed under the client');
    assert.equal((await s.exited).code, 0);
  });

  test('when a keep-alive connection stays idle 5 s then the replica closes it, but not one whose request runs longer', async (t) => {
    const dir = tempDir(t);
    const { modelDir, ic } = nodeService(dir, 'sv-control.js');
    const s = await startServe(t, ['--model-dir', modelDir, '--ic', ic, '--port', '0', '--replicas', '1']);
    const idle = connect(s.port, '127.0.0.1');
    t.after(() => idle.destroy());
    let answeredAt = 0;
    const closedAt = new Promise<number>((resolve) => {
      idle.on('close', () => resolve(Date.now()));
      setTimeout(() => resolve(Number.POSITIVE_INFINITY), 9_000).unref();
    });
    idle.on('data', () => {
      answeredAt = Date.now();
    });
    idle.write(
      'POST /score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}',
    );
    // a request running past the idle limit on its own connection is answered, not cut
    const slow = postJson(`${s.url}/score`, { sleepMs: 6_500 });
    const idleMs = (await closedAt) - answeredAt;
    assert.ok(answeredAt > 0, 'the first request was answered');
    assert.ok(idleMs >= 4_900 && idleMs < 6_500, `closed after ${idleMs} ms idle (limit 5 s)`);
    assert.equal((await slow).status, 200);
  });

  test('when init is slow then /health/ready is 503 and liveness 200 until every replica finished init', async (t) => {
    const dir = tempDir(t);
    const { modelDir, ic } = nodeService(dir, 'sv-slow-init.js');
    const stateFile = join(dir, 'state.json');
    const s = await startServe(
      t,
      ['--model-dir', modelDir, '--ic', ic, '--port', '0', '--replicas', '2', '--state-file', stateFile],
      {
        waitListening: false,
        env: { SV_INIT_DELAY_MS: '2500' },
      },
    );
    const port = await waitFor(() => readState(stateFile)?.port, 'the state file');
    const base = `http://127.0.0.1:${port}`;
    const notReady = await fetch(`${base}/health/ready`);
    assert.equal(notReady.status, 503);
    assert.equal(notReady.headers.get('retry-after'), '1');
    assert.equal((await fetch(`${base}/health/live`)).status, 200);
    const score = await postJson(`${base}/score`, {});
    assert.equal(score.status, 503);
    assert.equal((score.body.error as { code: string }).code, 'NOT_READY');
    assert.equal(readState(stateFile)?.ready, false);

    await waitFor(() => /Listening on/.test(s.stdout()), 'Listening on');
    assert.equal(readState(stateFile)?.ready, true);
    assert.deepEqual(readState(stateFile)?.replicas, { desired: 2, ready: 2 });
    assert.equal((await fetch(`${base}/health/ready`)).status, 200);
    assert.equal((await s.stop()).code, 0);
  });

  test('when two replicas serve then /metrics counts the requests of both', async (t) => {
    const dir = tempDir(t);
    const { modelDir, ic } = nodeService(dir, 'sv-control.js');
    const s = await startServe(t, ['--model-dir', modelDir, '--ic', ic, '--port', '0', '--replicas', '2']);
    await workerPids(s.url, 2);
    const before =
      metric(
        await (await fetch(`${s.url}/metrics`)).text(),
        'berth_requests_total\\{route="/score",status="200"[^}]*\\}',
      ) ?? 0;
    for (let i = 0; i < 10; i++) assert.equal((await postJson(`${s.url}/score`, { i })).status, 200);
    for (let i = 0; i < 4; i++) {
      const bad = await fetch(`${s.url}/score`, {
        method: 'POST',
        body: '{"cut',
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(bad.status, 400);
    }
    const text = await (await fetch(`${s.url}/metrics`)).text();
    assert.equal(metric(text, 'berth_requests_total\\{route="/score",status="200"[^}]*\\}'), before + 10);
    assert.equal(metric(text, 'berth_errors_total\\{route="/score",code="BAD_REQUEST"[^}]*\\}'), 4);
    assert.equal(metric(text, 'berth_replicas_desired'), 2);
    // prom-client's default metrics, from both replicas (summed)
    assert.ok((metric(text, 'process_resident_memory_bytes[^ ]*') ?? 0) > 0, text.slice(0, 500));
    assert.equal((await s.stop()).code, 0);
  });
});

describe('berth serve rolling reload (SIGHUP)', { concurrency: 1 }, () => {
  test('when the spec changes and SIGHUP arrives then the new model answers with no failed request', async (t) => {
    const dir = tempDir(t);
    nodeService(dir, 'sv-control.js');
    const stateFile = join(dir, 'state.json');
    const spec = writeSpec(dir, 'sv-control.js');
    const s = await startServe(t, ['--spec', spec, '--state-file', stateFile]);
    assert.equal((await postJson(`${s.url}/score`, {})).body.version, 'a');

    const load = loadLoop(`${s.url}/score`, { x: 1 }, 4);
    await sleep(300);
    writeSpec(dir, 'sv-version-b.js');
    s.child.kill('SIGHUP');
    await waitFor(() => readState(stateFile)?.generation === 2, 'generation 2');
    await waitFor(() => load.results.at(-1)?.body?.version === 'b', 'answers of the new generation');
    await sleep(300);
    const results = await load.stop();

    const failed = results.filter((r) => !r.ok);
    assert.deepEqual(failed, [], 'no request failed during the swap');
    assert.ok(results.some((r) => r.body?.version === 'a') && results.some((r) => r.body?.version === 'b'));
    const state = readState(stateFile)!;
    assert.equal(state.ready, true);
    assert.equal(state.error, undefined);
    assert.deepEqual(state.replicas, { desired: 2, ready: 2 });
    assert.equal((await postJson(`${s.url}/score`, {})).body.version, 'b');
    assert.equal((await s.stop()).code, 0);
  });

  test('when the new generation becomes ready then its replicas run at normal CPU priority again', {
    // raising a priority back needs root; elsewhere the replicas stay at nice 10 by design
    skip: process.platform !== 'linux' || process.getuid?.() !== 0,
  }, async (t) => {
    const dir = tempDir(t);
    nodeService(dir, 'sv-control.js');
    const stateFile = join(dir, 'state.json');
    const spec = writeSpec(dir, 'sv-control.js', { replicas: 1 });
    const s = await startServe(t, ['--spec', spec, '--state-file', stateFile]);
    writeSpec(dir, 'sv-version-b.js', { replicas: 1 });
    s.child.kill('SIGHUP');
    await waitFor(() => readState(stateFile)?.generation === 2, 'generation 2');
    const { body } = await postJson(`${s.url}/score`, {});
    assert.equal(body.version, 'b');
    const nice = (tid: string) =>
      Number(readFileSync(`/proc/${body.pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ')[16]);
    const tids = readdirSync(`/proc/${body.pid}/task`);
    assert.deepEqual(
      tids.map(nice).filter((n) => n !== 0),
      [],
      'every thread of the new replica at nice 0',
    );
    assert.equal((await s.stop()).code, 0);
  });

  test('when a keep-alive connection is idle at the reload then its next request reaches the new generation on it', async (t) => {
    const dir = tempDir(t);
    nodeService(dir, 'sv-control.js');
    const stateFile = join(dir, 'state.json');
    const spec = writeSpec(dir, 'sv-control.js', { replicas: 1 });
    const s = await startServe(t, ['--spec', spec, '--state-file', stateFile]);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    t.after(() => agent.destroy());
    const first = await postOn(agent, `${s.url}/score`);
    assert.equal(first.body.version, 'a');

    writeSpec(dir, 'sv-version-b.js', { replicas: 1 });
    s.child.kill('SIGHUP');
    await waitFor(() => readState(stateFile)?.generation === 2, 'generation 2');
    const next = await postOn(agent, `${s.url}/score`);
    assert.equal(next.body.version, 'b');
    assert.equal(next.reused, true, 'the same connection, handed to the new generation');
    assert.equal((await s.stop()).code, 0);
  });

  test('when the new spec fails init twice then the old generation keeps serving and the state file counts each failed reload', async (t) => {
    const dir = tempDir(t);
    nodeService(dir, 'sv-control.js');
    const stateFile = join(dir, 'state.json');
    const spec = writeSpec(dir, 'sv-control.js');
    const s = await startServe(t, ['--spec', spec, '--state-file', stateFile]);

    writeSpec(dir, 'throws-in-init.js');
    s.child.kill('SIGHUP');
    const state = await waitFor(() => {
      const st = readState(stateFile);
      return st?.error ? st : undefined;
    }, 'the reload error');
    assert.match(
      state.error!,
      /Reload to generation 2 failed; generation 1 keeps serving.*cannot open the model file/,
    );
    assert.equal(state.generation, 1);
    assert.equal(state.ready, true);
    assert.equal(state.failed, undefined);
    assert.equal(state.reloads, 1);
    for (let i = 0; i < 4; i++) {
      const r = await postJson(`${s.url}/score`, {});
      assert.equal(r.status, 200);
      assert.equal(r.body.version, 'a');
    }

    // The same failure again: the message repeats, the reload counter tells it apart.
    s.child.kill('SIGHUP');
    const again = await waitFor(() => {
      const st = readState(stateFile);
      return st?.reloads === 2 ? st : undefined;
    }, 'the second reload outcome');
    assert.equal(again.error, state.error);
    assert.equal(again.generation, 1);

    // A later good reload clears the error.
    writeSpec(dir, 'sv-version-b.js');
    s.child.kill('SIGHUP');
    await waitFor(() => readState(stateFile)?.generation === 2, 'generation 2');
    assert.equal(readState(stateFile)?.error, undefined);
    assert.equal(readState(stateFile)?.reloads, 3);
    assert.equal((await postJson(`${s.url}/score`, {})).body.version, 'b');
    assert.equal((await s.stop()).code, 0);
  });

  test('when the spec asks for more replicas then SIGHUP scales the service', async (t) => {
    const dir = tempDir(t);
    nodeService(dir, 'sv-control.js');
    const stateFile = join(dir, 'state.json');
    const spec = writeSpec(dir, 'sv-control.js', { replicas: 1 });
    const s = await startServe(t, ['--spec', spec, '--state-file', stateFile], { direct: true });
    const [first] = await workerPids(s.url, 1);
    writeSpec(dir, 'sv-control.js', { replicas: 3 });
    s.child.kill('SIGHUP');
    await waitFor(() => readState(stateFile)?.replicas.ready === 3, '3 ready replicas');
    assert.equal(readState(stateFile)?.generation, 2);
    const pids = await workerPids(s.url, 3);
    assert.ok(pids.includes(first), 'a scale-only reload keeps the running workers');

    writeSpec(dir, 'sv-control.js', { replicas: 1 });
    s.child.kill('SIGHUP');
    await waitFor(() => readState(stateFile)?.generation === 3, 'generation 3');
    assert.deepEqual(readState(stateFile)?.replicas, { desired: 1, ready: 1 });
    for (let i = 0; i < 4; i++) assert.equal((await postFresh(`${s.url}/score`, {})).body.pid, first);
    assert.equal((await s.stop()).code, 0);
  });

  test('when autoscale is on and one replica is busy then a second one is added', async (t) => {
    const dir = tempDir(t);
    nodeService(dir, 'sv-control.js');
    const stateFile = join(dir, 'state.json');
    const spec = writeSpec(dir, 'sv-control.js', {
      replicas: 1,
      autoscale: { minReplicas: 1, maxReplicas: 2, targetUtilization: 50, refreshPeriodInSeconds: 1 },
    });
    const s = await startServe(t, ['--spec', spec, '--state-file', stateFile]);
    const load = loadLoop(`${s.url}/score`, { busyMs: 20 }, 2);
    await waitFor(() => readState(stateFile)?.replicas.desired === 2, 'desired = 2', 15_000);
    await load.stop();
    assert.equal((await s.stop()).code, 0);
  });
});
