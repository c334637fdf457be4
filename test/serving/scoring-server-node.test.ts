import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { tempDir } from '../helpers/temp-dir.js';
import { errorOf, type HarnessOptions, nodeConfig, startScoring } from './scoring-harness.js';

async function serve(t: { after(fn: () => Promise<void>): void }, options: HarnessOptions) {
  const h = await startScoring(options);
  t.after(() => h.close());
  return h;
}

test('when a node entry script returns its input then POST /score answers it as JSON', async (t) => {
  const h = await serve(t, { config: nodeConfig('echo.js') });
  const res = await h.post('/score', { data: [[1, 2.5, 'x']], nested: { ok: true } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  assert.deepEqual(await res.json(), { data: [[1, 2.5, 'x']], nested: { ok: true } });
});

test('when the client sends x-request-id then the answer carries the same id, and errors always carry one', async (t) => {
  const h = await serve(t, { config: nodeConfig('echo.js') });
  const res = await h.post('/score', [1], { 'x-request-id': 'abc-123' });
  assert.equal(res.headers.get('x-request-id'), 'abc-123');
  const failed = await h.post('/score', '{bad');
  assert.equal(failed.status, 400);
  assert.ok(failed.headers.get('x-request-id'));
});

test('when the body is malformed JSON then 400 BAD_REQUEST', async (t) => {
  const h = await serve(t, { config: nodeConfig('echo.js') });
  const err = await errorOf(await h.post('/score', '{"data": [1,'));
  assert.equal(err.status, 400);
  assert.equal(err.code, 'BAD_REQUEST');
  assert.match(err.message, /not valid JSON/);
});

test('when run() throws then 500 SCORING_FAILED with the message and no stack', async (t) => {
  const h = await serve(t, { config: nodeConfig('throws-in-run.js') });
  const res = await h.post('/score', { x: 1 });
  const body = (await res.json()) as { error: { code: string; message: string; stack?: string } };
  assert.equal(res.status, 500);
  assert.equal(body.error.code, 'SCORING_FAILED');
  assert.match(body.error.message, /model exploded/);
  assert.equal(body.error.stack, undefined);
});

test('when run() throws in debug mode then the 500 body carries the stack', async (t) => {
  const h = await serve(t, { config: nodeConfig('throws-in-run.js'), debug: true });
  const res = await h.post('/score', { x: 1 });
  const body = (await res.json()) as { error: { code: string; stack?: string } };
  assert.equal(res.status, 500);
  assert.equal(body.error.code, 'SCORING_FAILED');
  assert.match(body.error.stack ?? '', /throws-in-run\.js/);
});

test('when run() throws an error with status 400 then the answer is 400 BAD_REQUEST', async (t) => {
  const h = await serve(t, { config: nodeConfig('throws-in-run.js') });
  const err = await errorOf(await h.post('/score', { bad: true }));
  assert.equal(err.status, 400);
  assert.equal(err.code, 'BAD_REQUEST');
  assert.match(err.message, /must be positive/);
});

test('when run() takes longer than scoringTimeoutMs then 504 SCORING_TIMEOUT and the server keeps serving', async (t) => {
  const h = await serve(t, { config: nodeConfig('slow.js'), limits: { scoringTimeoutMs: 200 } });
  const err = await errorOf(await h.post('/score', { ms: 3_000 }));
  assert.equal(err.status, 504);
  assert.equal(err.code, 'SCORING_TIMEOUT');
  const ok = await h.post('/score', { ms: 1 });
  assert.equal(ok.status, 200);
  assert.equal(h.scoring.inFlight(), 0);
});

test('when more requests arrive than can run or wait then 503 OVERLOADED with Retry-After', async (t) => {
  const h = await serve(t, {
    config: nodeConfig('slow.js'),
    limits: { maxConcurrentRequestsPerContainer: 1, maxQueueWaitMs: 150 },
  });
  const answers = await Promise.all([1, 2, 3].map(() => h.post('/score', { ms: 1_500 })));
  const statuses = answers.map((r) => r.status).sort();
  assert.deepEqual(statuses, [200, 503, 503]);
  for (const res of answers.filter((r) => r.status === 503)) {
    assert.equal(res.headers.get('retry-after'), '1');
    const err = await errorOf(res);
    assert.equal(err.code, 'OVERLOADED');
  }
  assert.equal(h.scoring.inFlight(), 0);
});

test('when a queued request gets a slot within maxQueueWaitMs then it is served', async (t) => {
  const h = await serve(t, {
    config: nodeConfig('slow.js'),
    limits: { maxConcurrentRequestsPerContainer: 1, maxQueueWaitMs: 5_000 },
  });
  const answers = await Promise.all([h.post('/score', { ms: 200 }), h.post('/score', { ms: 10 })]);
  assert.deepEqual(
    answers.map((r) => r.status),
    [200, 200],
  );
});

test('when the body is larger than maxBodyBytes then 413 BODY_TOO_LARGE', async (t) => {
  const h = await serve(t, { config: nodeConfig('echo.js'), limits: { maxBodyBytes: 1_000 } });
  const err = await errorOf(await h.post('/score', { data: 'x'.repeat(5_000) }));
  assert.equal(err.status, 413);
  assert.equal(err.code, 'BODY_TOO_LARGE');
  const ok = await h.post('/score', { data: 'small' });
  assert.equal(ok.status, 200);
});

test('when a chunked body grows past maxBodyBytes then 413 and the rest is not buffered', async (t) => {
  const h = await serve(t, { config: nodeConfig('echo.js'), limits: { maxBodyBytes: 10_000 } });
  const { port } = h.scoring.server.address() as AddressInfo;
  const status = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/score',
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.write('"');
    let sent = 0;
    const more = (): void => {
      if (sent > 200_000 || req.destroyed) return;
      sent += 4_000;
      req.write('y'.repeat(4_000), () => setImmediate(more));
    };
    more();
  });
  assert.equal(status.status, 413);
  assert.equal(JSON.parse(status.body).error.code, 'BODY_TOO_LARGE');
});

test('when the route does not exist then 404 ROUTE_NOT_FOUND', async (t) => {
  const h = await serve(t, { config: nodeConfig('echo.js') });
  const err = await errorOf(await fetch(`${h.url}/nope`));
  assert.equal(err.status, 404);
  assert.equal(err.code, 'ROUTE_NOT_FOUND');
  const getScore = await errorOf(await fetch(`${h.url}/score`));
  assert.equal(getScore.status, 404);
  assert.match(getScore.message, /POST \/score/);
});

test('when keys are set then the primary and secondary key pass, a wrong or missing key gets 401, health stays open', async (t) => {
  const h = await serve(t, { config: nodeConfig('echo.js'), keys: ['primary-key-123', 'secondary-key-456'] });
  const primary = await h.post('/score', [1], { authorization: 'Bearer primary-key-123' });
  assert.equal(primary.status, 200);
  const secondary = await h.post('/score', [1], { authorization: 'Bearer secondary-key-456' });
  assert.equal(secondary.status, 200);
  const wrong = await errorOf(await h.post('/score', [1], { authorization: 'Bearer primary-key-124' }));
  assert.equal(wrong.status, 401);
  assert.equal(wrong.code, 'UNAUTHORIZED');
  const missing = await errorOf(await h.post('/score', [1]));
  assert.equal(missing.status, 401);
  assert.equal(missing.code, 'UNAUTHORIZED');
  const basic = await errorOf(await h.post('/score', [1], { authorization: 'Basic primary-key-123' }));
  assert.equal(basic.status, 401);
  for (const path of [
    '/',
    '/health/live',
    '/health/ready',
    '/v2/health/live',
    '/v2/health/ready',
    '/swagger.json',
  ]) {
    assert.equal((await fetch(h.url + path)).status, 200, path);
  }
  assert.equal((await fetch(`${h.url}/metrics`)).status, 401);
  const metrics = await fetch(`${h.url}/metrics`, { headers: { authorization: 'Bearer secondary-key-456' } });
  assert.equal(metrics.status, 200);
  const swagger = (await (await fetch(`${h.url}/swagger.json`)).json()) as {
    components: { securitySchemes: object };
  };
  assert.ok(swagger.components.securitySchemes);
});

test('when the server is not ready then /health/ready is 503 NOT_READY and liveness is 200', async (t) => {
  const h = await serve(t, { config: nodeConfig('echo.js'), notReady: true });
  const root = await fetch(`${h.url}/`);
  assert.equal(root.status, 200);
  assert.equal(await root.text(), 'Healthy');
  assert.equal((await fetch(`${h.url}/health/live`)).status, 200);
  const ready = await errorOf(await fetch(`${h.url}/health/ready`));
  assert.equal(ready.status, 503);
  assert.equal(ready.code, 'NOT_READY');
  assert.equal((await fetch(`${h.url}/v2/health/ready`)).status, 503);
  h.scoring.setReady(true);
  assert.equal((await fetch(`${h.url}/health/ready`)).status, 200);
  assert.equal((await fetch(`${h.url}/v2/health/ready`)).status, 200);
});

test('when the body is application/octet-stream then run() receives a Buffer', async (t) => {
  const h = await serve(t, { config: nodeConfig('binary.js') });
  const bytes = Buffer.from([7, 0, 255, 1, 42]);
  const res = await h.post('/score', bytes, { 'content-type': 'application/octet-stream' });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { isBuffer: true, length: 5, first: 7, last: 42 });
});

test('when the entry script is TypeScript then it is loaded without a build step', async (t) => {
  const h = await serve(t, { config: nodeConfig('typed.ts') });
  const res = await h.post('/score', {
    data: [
      [1, 2],
      [3, 4],
    ],
  });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), [6, 14]);
});

test('when init and run are async and init reads a model file then scoring uses it', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'weights.json'), '[1, 10, 100]');
  const h = await serve(t, {
    config: nodeConfig('async.mjs'),
    models: [{ name: 'weights', version: 3, path: dir }],
  });
  const res = await h.post('/score', {
    data: [
      [1, 2, 3],
      [0, 0, 1],
    ],
  });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), [321, 100]);
});

test('when the entry script declares a schema then a mismatching body is 400 with the failing path', async (t) => {
  const h = await serve(t, { config: nodeConfig('with-schema.js') });
  const ok = await h.post('/score', { data: [[1.5, 2, 3]], method: 'sum' });
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), [6.5]);
  const wrongType = await errorOf(await h.post('/score', { data: [[1, 'two', 3]], method: 'sum' }));
  assert.equal(wrongType.status, 400);
  assert.equal(wrongType.code, 'BAD_REQUEST');
  assert.match(wrongType.message, /\/data\/0\/1/);
  const missing = await errorOf(await h.post('/score', { data: [[1, 2, 3]] }));
  assert.equal(missing.status, 400);
  assert.equal(missing.code, 'BAD_REQUEST');
  assert.match(missing.message, /method/);
});

test('when the schema comes from samples then swagger.json describes input and output', async (t) => {
  const h = await serve(t, { config: nodeConfig('with-schema.js'), name: 'summer' });
  const res = await fetch(`${h.url}/swagger.json`);
  assert.equal(res.status, 200);
  const doc = (await res.json()) as {
    openapi: string;
    info: { title: string };
    paths: Record<
      string,
      Record<string, { requestBody?: { content: Record<string, { schema: Record<string, unknown> }> } }>
    >;
    components: { schemas: Record<string, unknown> };
  };
  assert.match(doc.openapi, /^3\./);
  assert.equal(doc.info.title, 'summer');
  const input = doc.paths['/score'].post.requestBody?.content['application/json'].schema;
  assert.deepEqual(input, {
    type: 'object',
    properties: {
      data: { type: 'array', items: { type: 'array', items: { type: 'integer' } } },
      method: { type: 'string' },
    },
    required: ['data', 'method'],
  });
  assert.deepEqual(doc.components.schemas.ServiceOutput, { type: 'array', items: { type: 'integer' } });
  assert.ok(doc.paths['/health/ready']);
  assert.ok(doc.paths['/v2/models/{name}/infer']);
});

test('when the inference config has a JSON Schema then it wins over the script and validates requests', async (t) => {
  const schema = {
    input: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: {
        data: { type: 'array', items: { type: 'array', items: { type: 'number' }, minItems: 2 } },
      },
      required: ['data'],
    },
    output: { type: 'array', items: { type: 'number' } },
  };
  const h = await serve(t, { config: nodeConfig('with-schema.js', { schema }) });
  const short = await errorOf(await h.post('/score', { data: [[1]] }));
  assert.equal(short.status, 400);
  assert.match(short.message, /\/data\/0/);
  const doc = (await (await fetch(`${h.url}/swagger.json`)).json()) as {
    components: { schemas: { ServiceInput: object } };
  };
  assert.deepEqual(doc.components.schemas.ServiceInput, {
    type: 'object',
    properties: schema.input.properties,
    required: ['data'],
  });
});

test('when requests are scored then /metrics counts them by route and status with latency and gauges', async (t) => {
  const h = await serve(t, {
    config: nodeConfig('echo.js'),
    name: 'metered',
    hooks: { replicaRestarts: () => 2 },
  });
  await h.post('/score', [1]);
  await h.post('/score', [2]);
  await h.post('/score', 'nope');
  const res = await fetch(`${h.url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
  const text = await res.text();
  assert.match(text, /berth_requests_total\{route="\/score",status="200",service="metered"\} 2/);
  assert.match(text, /berth_requests_total\{route="\/score",status="400",service="metered"\} 1/);
  assert.match(
    text,
    /berth_request_duration_seconds_count\{(?=[^}]*route="\/score")(?=[^}]*service="metered")[^}]*\} 3/,
  );
  assert.match(text, /berth_request_duration_seconds_bucket\{le="\+Inf"[^}]*route="\/score"[^}]*\} 3/);
  assert.match(text, /berth_errors_total\{route="\/score",code="BAD_REQUEST",service="metered"\} 1/);
  assert.match(text, /berth_requests_in_flight\{service="metered"\} 0/);
  assert.match(text, /berth_queue_depth\{service="metered"\} 0/);
  assert.match(text, /berth_replica_restarts\{service="metered"\} 2/);
  assert.match(text, /process_resident_memory_bytes/);
});

test('when the supervisor gives cluster metrics then /metrics serves them', async (t) => {
  const h = await serve(t, {
    config: nodeConfig('echo.js'),
    hooks: { metricsText: async () => '# cluster\nberth_requests_total{route="/score",status="200"} 42\n' },
  });
  assert.match(await (await fetch(`${h.url}/metrics`)).text(), /42/);
});

test('when a data collection folder is set then each scored request is appended as a JSON line of the day', async (t) => {
  const dir = tempDir(t);
  const h = await serve(t, { config: nodeConfig('echo.js'), dataCollectionDir: join(dir, 'collected') });
  await h.post('/score', { a: 1 }, { 'x-request-id': 'req-1' });
  await h.post('/score', { a: 2 }, { 'x-request-id': 'req-2' });
  await h.scoring.drain(2_000);
  const files = readdirSync(join(dir, 'collected'));
  assert.equal(files.length, 1);
  assert.match(files[0], /^\d{4}-\d{2}-\d{2}\.jsonl$/);
  const lines = readFileSync(join(dir, 'collected', files[0]), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  assert.deepEqual(
    lines.map((l) => [l.requestId, l.input, l.output]),
    [
      ['req-1', { a: 1 }, { a: 1 }],
      ['req-2', { a: 2 }, { a: 2 }],
    ],
  );
  assert.ok(!Number.isNaN(Date.parse(lines[0].time)));
});

test('when requests are answered then the log has one line per request with id, route, status and ms', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'replica.log');
  const log = pino({ level: 'info' }, pino.destination({ dest: file, sync: true }));
  const h = await serve(t, { config: nodeConfig('throws-in-run.js'), log });
  await h.post('/score', { x: 1 }, { 'x-request-id': 'logged-1' });
  await fetch(`${h.url}/health/live`);
  await h.scoring.drain(2_000);
  const lines = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const requests = lines.filter((l) => l.msg === 'request');
  assert.equal(requests.length, 2);
  assert.equal(requests[0].reqId, 'logged-1');
  assert.equal(requests[0].route, '/score');
  assert.equal(requests[0].status, 500);
  assert.equal(typeof requests[0].ms, 'number');
  const failure = lines.find((l) => l.level === 50 && l.reqId === 'logged-1');
  assert.ok(failure, 'the run error is logged');
  assert.match(failure.stack, /model exploded[\s\S]*throws-in-run\.js/);
});

test('when requests run then onRequestStart gets the socket and onRequestEnd its token, once each', async (t) => {
  const events: string[] = [];
  let next = 0;
  const h = await serve(t, {
    config: nodeConfig('echo.js'),
    hooks: {
      onRequestStart: (s: Socket, v2: boolean) => {
        events.push(`start:${typeof s.remotePort}:${v2}`);
        return ++next;
      },
      onRequestEnd: (token: number) => {
        events.push(`end:${token}`);
      },
    },
  });
  await h.post('/score', [1]);
  await h.post('/score', 'broken');
  await fetch(`${h.url}/health/live`);
  assert.deepEqual(events, ['start:number:false', 'end:1', 'start:number:false', 'end:2']);
});

test('when draining with a request in flight then it completes with Connection: close and drain resolves', async (t) => {
  const h = await serve(t, { config: nodeConfig('slow.js') });
  const pending = h.post('/score', { ms: 300 });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(h.scoring.inFlight(), 1);
  const drained = h.scoring.drain(5_000);
  const res = await pending;
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('connection'), 'close');
  await drained;
  assert.equal(h.scoring.inFlight(), 0);
});

test('when spec.tls is set then the server speaks HTTPS', async (t) => {
  const dir = tempDir(t);
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const { createScoringServer } = await import('../../src/serving/scoring-server.js');
  const { createRuntime } = await import('../../src/serving/runtimes/create-runtime.js');
  const { SERVE_DEFAULTS } = await import('../../src/serving/serve-defaults.js');
  const log = pino({ level: 'silent' });
  const config = nodeConfig('echo.js');
  const runtime = await createRuntime({ config, models: [], log, limits: SERVE_DEFAULTS });
  await runtime.load();
  const scoring = createScoringServer({
    spec: {
      name: 'tls',
      models: [],
      inferenceConfig: config,
      host: '127.0.0.1',
      port: 0,
      replicas: 1,
      limits: SERVE_DEFAULTS,
      tls: { certFile, keyFile },
    },
    runtime,
    log,
  });
  await new Promise<void>((resolve) => scoring.server.listen(0, '127.0.0.1', resolve));
  t.after(() => scoring.drain(1_000).then(() => scoring.server.closeAllConnections()));
  const { port } = scoring.server.address() as AddressInfo;
  const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/score',
        method: 'POST',
        rejectUnauthorized: false,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end('{"secure":true}');
  });
  assert.equal(answer.status, 200);
  assert.deepEqual(JSON.parse(answer.body), { secure: true });
});
