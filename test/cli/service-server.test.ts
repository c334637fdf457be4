import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServiceView } from '../../src/deploy/service-view.js';
import { deployHarness, LINEAR_BODY, postJson, waitFor } from '../deploy/deploy-fixtures.js';

interface Status {
  running: boolean;
  url?: string;
  pid?: number;
  token?: string;
  alreadyRunning?: boolean;
  dashboardUrl?: string;
}

test('when the control plane is started, queried and stopped then status follows and a second start reuses it', async (t) => {
  const h = deployHarness(t);
  const stopped = await h.berth(['--json', 'server', 'status']);
  assert.equal(stopped.code, 0);
  assert.equal(stopped.json<Status>().running, false);

  const start = await h.berth(['--json', 'server', 'start']);
  assert.equal(start.code, 0, start.stderr);
  const info = start.json<Status>();
  assert.equal(info.running, true);
  assert.match(info.url ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.ok(info.token && info.pid);
  const health = await fetch(`${info.url}/api/health`);
  assert.equal(health.status, 200);
  // The dashboard's login link carries the token, like Jupyter's, and serves the page.
  assert.equal(info.dashboardUrl, `${info.url}/?token=${encodeURIComponent(info.token ?? '')}`);
  const page = await fetch(info.dashboardUrl ?? '');
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  assert.match(await page.text(), /<html/i);
  assert.match(start.stdout, /"dashboardUrl"/);

  const again = await h.berth(['--json', 'server', 'start']);
  assert.equal(again.json<Status>().alreadyRunning, true);
  assert.equal(again.json<Status>().pid, info.pid);
  const status = await h.jsonOk<Status>(['server', 'status']);
  assert.deepEqual([status.running, status.url, status.pid], [true, info.url, info.pid]);
  assert.equal(status.dashboardUrl, info.dashboardUrl);
  const human = await h.berth(['server', 'status']);
  assert.ok(
    human.stdout.includes(`Dashboard:`) && human.stdout.includes(info.dashboardUrl ?? '-'),
    human.stdout,
  );
  const remote = await h.jsonOk<Status>(['--url', info.url ?? '', '--token', 'a b', 'server', 'status']);
  assert.equal(remote.dashboardUrl, `${info.url}/?token=a%20b`);
  const remoteNoToken = await h.jsonOk<Status>(['--url', info.url ?? '', 'server', 'status']);
  assert.equal(remoteNoToken.dashboardUrl, `${info.url}/`);
  assert.equal((await fetch(remoteNoToken.dashboardUrl ?? '')).status, 200);

  const stop = await h.berth(['server', 'stop']);
  assert.equal(stop.code, 0);
  assert.match(stop.stdout, new RegExp(`pid ${info.pid}`));
  assert.equal((await h.jsonOk<Status>(['server', 'status'])).running, false);
  // It comes back on the same URL with the same token (remote clients keep working).
  const restarted = await h.jsonOk<Status>(['server', 'start']);
  assert.equal(restarted.url, info.url);
  assert.equal(restarted.token, info.token);
});

test('when the control plane is stopped with --all then services stop too, and starting it again brings them back', async (t) => {
  const h = deployHarness(t);
  await h.registerLinear();
  const ic = h.json('ic.json', { runtime: 'onnx' });
  const view = await h.jsonOk<ServiceView>(['model', 'deploy', '-n', 'svc', '-m', 'linear:1', '--ic', ic]);
  assert.equal((await postJson(view.scoringUri, LINEAR_BODY)).status, 200);

  const stop = await h.berth(['--json', 'server', 'stop', '--all']);
  assert.equal(stop.code, 0, stop.stderr);
  assert.deepEqual(stop.json<{ services: string[] }>().services, ['svc']);
  await assert.rejects(postJson(view.scoringUri, LINEAR_BODY));

  assert.equal((await h.berth(['server', 'start'])).code, 0);
  const back = await waitFor(async () => {
    const v = await h.jsonOk<ServiceView>(['service', 'show', 'svc']);
    return v.state === 'Healthy' ? v : undefined;
  }, 'svc Healthy again');
  assert.equal(back.scoringUri, view.scoringUri);
  assert.equal((await postJson(view.scoringUri, LINEAR_BODY)).status, 200);
});

test('when server start or stop is given --url then NOT_SUPPORTED and exit 7', async (t) => {
  const h = deployHarness(t);
  const res = await h.berth(['--url', 'http://127.0.0.1:1', 'server', 'stop']);
  assert.equal(res.code, 7);
  assert.match(res.stderr, /NOT_SUPPORTED/);
  const unreachable = await h.berth(['--url', 'http://127.0.0.1:1', '--token', 'x', 'service', 'list']);
  assert.equal(unreachable.code, 8);
  assert.match(unreachable.stderr, /CONTROL_PLANE_UNAVAILABLE/);
});

test('when the control plane cannot listen on the port asked for then start fails with CONTROL_PLANE_UNAVAILABLE naming why, exit 8', async (t) => {
  const h = deployHarness(t);
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const port = (server.address() as { port: number }).port;
  const res = await h.berth(['server', 'start', '--port', String(port)]);
  assert.equal(res.code, 8, res.stdout + res.stderr);
  assert.match(res.stderr, /CONTROL_PLANE_UNAVAILABLE/);
  assert.match(res.stderr, new RegExp(`Port ${port} is already in use`));
  const fg = await h.berth(['server', 'start', '--foreground', '--port', String(port)]);
  assert.equal(fg.code, 4);
  assert.match(fg.stderr, /PORT_IN_USE/);
});
