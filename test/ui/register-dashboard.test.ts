import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { installApiErrorHandler } from '../../src/api/api-error-handler.js';
import { installBearerAuth } from '../../src/api/bearer-auth.js';
import { BerthError } from '../../src/core/errors.js';
import type { DashboardServices, DashboardServiceTarget } from '../../src/ui/dashboard-services.js';
import { registerDashboard } from '../../src/ui/register-dashboard.js';

const TOKEN = 'test-token-0123456789';
const KEYS = { primaryKey: 'primary-key-abcdef', secondaryKey: 'secondary-key-ghijkl' };

interface Received {
  method?: string;
  url?: string;
  authorization?: string;
  contentType?: string;
  body: string;
}

/** A stand-in scoring service on 127.0.0.1: echoes the body on /score (401 without the primary or secondary key). */
async function startService(t: {
  after(fn: () => unknown): void;
}): Promise<{ port: number; received: Received[] }> {
  const received: Received[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({
        method: req.method,
        url: req.url,
        authorization: req.headers.authorization,
        contentType: req.headers['content-type'],
        body,
      });
      const auth = req.headers.authorization;
      const authorized = auth === `Bearer ${KEYS.primaryKey}` || auth === `Bearer ${KEYS.secondaryKey}`;
      if (req.url === '/swagger.json') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"openapi":"3.0.3","paths":{}}');
      } else if (!authorized) {
        res
          .writeHead(401, { 'content-type': 'application/json' })
          .end('{"error":{"code":"UNAUTHORIZED","message":"key"}}');
      } else if (req.url === '/metrics') {
        res
          .writeHead(200, { 'content-type': 'text/plain' })
          .end('berth_requests_total{route="/score",status="200"} 3\nberth_replicas_ready 1\n');
      } else {
        res
          .writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'req-1' })
          .end(JSON.stringify({ echo: JSON.parse(body || 'null') }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return { port: (server.address() as AddressInfo).port, received };
}

function services(targets: Record<string, DashboardServiceTarget>): DashboardServices {
  const find = (name: string) => {
    const s = targets[name];
    if (!s) throw new BerthError('SERVICE_NOT_FOUND', `No service "${name}".`);
    return s;
  };
  return {
    get: find,
    keys: (name) => {
      find(name);
      return { ...KEYS };
    },
  };
}

function target(name: string, port: number, authEnabled = true): DashboardServiceTarget {
  return {
    name,
    state: 'Healthy',
    scoringUri: `http://127.0.0.1:${port}/score`,
    swaggerUri: `http://127.0.0.1:${port}/swagger.json`,
    authEnabled,
    deploymentConfig: { scoringTimeoutMs: 5000 },
  };
}

/** The management API's auth and error handling (src/api) with the dashboard registered, as the control plane does. */
async function startApi(
  t: { after(fn: () => unknown): void },
  dashboard: DashboardServices,
): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify({ logger: false });
  installApiErrorHandler(app);
  installBearerAuth(app, TOKEN);
  app.get('/api/services', async () => [{ name: 'secret-service' }]);
  registerDashboard(app, { services: dashboard, metrics: { sampleMs: 1 } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  return { app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}

const auth = { authorization: `Bearer ${TOKEN}` };

/** A GET with the path sent exactly as given (fetch would normalise `..`). */
function rawGet(
  url: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; encoding?: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    request({ host: u.hostname, port: u.port, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          encoding: res.headers['content-encoding'],
          body: Buffer.concat(chunks),
        }),
      );
    })
      .on('error', reject)
      .end();
  });
}

test('when the dashboard shell and its files are fetched without a token then they load, with no workspace data in them', async (t) => {
  const { url } = await startApi(t, services({}));
  const page = await fetch(`${url}/?token=whatever`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'self'/);
  assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
  const html = await page.text();
  assert.match(html, /<script type="module" src="\/ui\/app.js">/);
  assert.doesNotMatch(html, /secret-service|https?:\/\/(?!www\.w3\.org)/, 'no data, no external address');
  for (const path of ['/ui/app.js', '/ui/dashboard.css', '/ui/icon.svg']) {
    const res = await fetch(`${url}${path}`);
    assert.equal(res.status, 200, path);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  }
  const js = await fetch(`${url}/ui/app.js`);
  assert.match(js.headers.get('content-type') ?? '', /text\/javascript/);
});

test('when a browser sends If-None-Match or accepts gzip then it gets 304 or the gzip body', async (t) => {
  const { url } = await startApi(t, services({}));
  const first = await fetch(`${url}/ui/app.js`, { headers: { 'accept-encoding': 'identity' } });
  const etag = first.headers.get('etag') ?? '';
  const plain = Buffer.from(await first.arrayBuffer());
  const again = await fetch(`${url}/ui/app.js`, { headers: { 'if-none-match': etag } });
  assert.equal(again.status, 304);
  // Node's fetch decodes gzip itself; a raw request shows the encoding.
  const gz = await rawGet(url, '/ui/app.js', { 'accept-encoding': 'gzip' });
  assert.equal(gz.encoding, 'gzip');
  assert.ok(gz.body.length < plain.length);
  assert.deepEqual(gunzipSync(gz.body), plain);
});

test('when the API or a proxy route is called without the token then it answers 401 UNAUTHORIZED, also through /ui/ paths', async (t) => {
  const svc = await startService(t);
  const { url } = await startApi(t, services({ s: target('s', svc.port) }));
  for (const [method, path] of [
    ['GET', '/api/services'],
    ['POST', '/api/services/s/score'],
    ['GET', '/api/services/s/swagger.json'],
    ['GET', '/api/services/s/metrics'],
    ['GET', '/api/services/s/metrics/history'],
  ]) {
    const res = await fetch(`${url}${path}`, {
      method,
      body: method === 'POST' ? '{}' : undefined,
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(res.status, 401, path);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'UNAUTHORIZED');
  }
  const wrong = await fetch(`${url}/api/services`, { headers: { authorization: 'Bearer nope' } });
  assert.equal(wrong.status, 401);
  // A /ui/ prefix does not open other routes: unnormalised /ui/ paths are 404s with no data.
  for (const path of ['/ui/../api/services', '/ui/%2e%2e/api/services', '/ui/..%2fapi/services']) {
    const sneaky = await rawGet(url, path);
    assert.equal(sneaky.status, 404, path);
    assert.doesNotMatch(sneaky.body.toString(), /secret-service/);
  }
  assert.equal(svc.received.length, 0, 'nothing reached the service');
});

test('when scoring through the control plane then the body goes to the service with its key and the answer comes back with its latency', async (t) => {
  const svc = await startService(t);
  const { url } = await startApi(t, services({ s: target('s', svc.port) }));
  const res = await fetch(`${url}/api/services/s/score`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ data: [[1, 2]] }),
  });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { echo: { data: [[1, 2]] } });
  assert.equal(res.headers.get('x-berth-upstream'), 'service');
  assert.ok(Number(res.headers.get('x-berth-service-ms')) > 0);
  assert.equal(res.headers.get('x-request-id'), 'req-1');
  assert.deepEqual(svc.received.at(-1), {
    method: 'POST',
    url: '/score',
    authorization: `Bearer ${KEYS.primaryKey}`,
    contentType: 'application/json',
    body: '{"data":[[1,2]]}',
  });
  await fetch(`${url}/api/services/s/score?key=secondary`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: '1',
  });
  assert.equal(svc.received.at(-1)?.authorization, `Bearer ${KEYS.secondaryKey}`);
});

test('when the service refuses the key then its 401 is relayed, marked as coming from the service', async (t) => {
  const svc = await startService(t);
  const { url } = await startApi(t, services({ s: target('s', svc.port) }));
  const res = await fetch(`${url}/api/services/s/score?key=none`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(res.status, 401);
  assert.equal(res.headers.get('x-berth-upstream'), 'service');
  assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'UNAUTHORIZED');
  assert.equal(svc.received.at(-1)?.authorization, undefined);
});

test('when the service has auth off then no key is sent', async (t) => {
  const svc = await startService(t);
  const { url } = await startApi(t, services({ s: target('s', svc.port, false) }));
  await fetch(`${url}/api/services/s/swagger.json`, { headers: auth });
  assert.equal(svc.received.at(-1)?.authorization, undefined);
});

test('when the service is unknown or does not answer then the proxy says so with SERVICE_NOT_FOUND 404 or NOT_READY 503', async (t) => {
  const svc = await startService(t);
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const deadPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const { url } = await startApi(t, services({ s: target('s', svc.port), dead: target('dead', deadPort) }));
  const missing = await fetch(`${url}/api/services/nope/score`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(missing.status, 404);
  assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'SERVICE_NOT_FOUND');
  const dead = await fetch(`${url}/api/services/dead/score`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(dead.status, 503);
  const body = (await dead.json()) as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'NOT_READY');
  assert.match(body.error.message, /does not answer/);
  const history = await fetch(`${url}/api/services/nope/metrics/history`, { headers: auth });
  assert.equal(history.status, 404);
});

test('when the metrics are asked through the control plane then the raw text and the history come back', async (t) => {
  const svc = await startService(t);
  const { url } = await startApi(t, services({ s: target('s', svc.port) }));
  const raw = await fetch(`${url}/api/services/s/metrics`, { headers: auth });
  assert.equal(raw.status, 200);
  assert.match(await raw.text(), /berth_requests_total/);
  const history = await fetch(`${url}/api/services/s/metrics/history`, { headers: auth });
  assert.equal(history.status, 200);
  const view = (await history.json()) as {
    service: string;
    points: { replicasReady: number }[];
    lastError: string | null;
  };
  assert.equal(view.service, 's');
  assert.equal(view.lastError, null);
  assert.equal(view.points.at(-1)?.replicasReady, 1);
});
