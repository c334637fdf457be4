import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RunningControlPlane, runControlPlane } from '../../src/api/control-plane-server.js';
import { createLogger } from '../../src/core/logger.js';
import type { ServiceView } from '../../src/deploy/service-view.js';
import { deployHarness, LINEAR_BODY, postJson, waitFor } from '../deploy/deploy-fixtures.js';

/** The management API of a control plane run in this process (its replicas are real `berth serve` processes). */
describe('management API', () => {
  let cp: RunningControlPlane | undefined;
  // Registered first, so it runs before the harness stops what is left and removes the folder.
  after(() => cp?.close());
  const h = deployHarness({ after });
  let api: (
    method: string,
    path: string,
    body?: unknown,
    token?: string | null,
  ) => Promise<{ status: number; body: any }>;

  before(async () => {
    assert.equal((await h.registerLinear('linear')).code, 0);
    cp = await runControlPlane({ workspaceDir: h.ws, log: createLogger({ name: 'test', level: 'error' }) });
    api = async (method, path, body, token) => {
      const headers: Record<string, string> = {};
      if (token !== null) headers.authorization = `Bearer ${token ?? cp!.info.token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${cp!.info.url}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    };
  });

  it('when the OpenAPI document is fetched then it lists the model and service routes, without a token', async () => {
    const res = await api('GET', '/api/openapi.json', undefined, null);
    assert.equal(res.status, 200);
    assert.match(res.body.openapi, /^3\./);
    for (const path of [
      '/api/models',
      '/api/models/{ref}',
      '/api/services',
      '/api/services/{name}',
      '/api/services/{name}/logs',
      '/api/services/{name}/keys',
      '/api/services/{name}/keys/regenerate',
      '/api/services/{name}/update',
      '/api/uploads',
    ]) {
      assert.ok(res.body.paths[path], `documents ${path}`);
    }
  });

  it('when a route is called without or with a wrong token then 401 UNAUTHORIZED', async () => {
    const none = await api('GET', '/api/services', undefined, null);
    assert.equal(none.status, 401);
    assert.equal(none.body.error.code, 'UNAUTHORIZED');
    const wrong = await api('GET', '/api/models', undefined, 'not-the-token');
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error.code, 'UNAUTHORIZED');
    const open = await api('GET', '/api/health', undefined, null);
    assert.equal(open.status, 200);
    assert.equal(open.body.ok, true);
    assert.equal(open.body.workspace, undefined, 'no workspace path without the token');
    const authorized = await api('GET', '/api/health');
    assert.equal(typeof authorized.body.workspace, 'string');
  });

  it('when a route does not exist then 404 ROUTE_NOT_FOUND in the error shape', async () => {
    const res = await api('GET', '/api/nothing');
    assert.equal(res.status, 404);
    assert.equal(res.body.error.code, 'ROUTE_NOT_FOUND');
    assert.equal(typeof res.body.error.message, 'string');
  });

  it('when models are listed and shown then they have the registry JSON shape', async () => {
    const list = await api('GET', '/api/models?name=linear');
    assert.equal(list.status, 200);
    assert.equal(list.body[0].id, 'linear:1');
    const one = await api('GET', `/api/models/${encodeURIComponent('linear:1')}`);
    assert.equal(one.body.sha256, list.body[0].sha256);
    const missing = await api('GET', '/api/models/nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'MODEL_NOT_FOUND');
  });

  it('when a deploy request is bad then the catalogue status and code come back', async () => {
    const cases: [unknown, number, string][] = [
      [{ name: 'x', models: ['nope:1'] }, 404, 'MODEL_NOT_FOUND'],
      [{ name: 'x', models: ['linear:1'], deploymentConfig: { numReplicas: 0 } }, 400, 'INVALID_CONFIG'],
      [
        {
          name: 'x',
          models: ['linear:1'],
          inferenceConfig: { runtime: 'node', entryScript: '/nowhere/score.js' },
        },
        400,
        'ENTRY_SCRIPT_NOT_FOUND',
      ],
      [
        { name: 'x', models: ['linear:1'], deploymentConfig: { computeType: 'kubernetes' } },
        404,
        'COMPUTE_NOT_FOUND',
      ],
      [{ name: 'x', models: [] }, 400, 'INVALID_ARGUMENT'],
      [{ name: 'bad name', models: ['linear:1'] }, 400, 'INVALID_NAME'],
      [{ models: ['linear:1'] }, 400, 'INVALID_ARGUMENT'],
    ];
    for (const [body, status, code] of cases) {
      const res = await api('POST', '/api/services', body);
      assert.equal(res.status, status, JSON.stringify(body));
      assert.equal(res.body.error.code, code, JSON.stringify(res.body));
    }
  });

  it('when a service is deployed, updated, keyed and deleted through the API then each route answers as documented', async () => {
    const created = await api('POST', '/api/services', {
      name: 'api-svc',
      models: ['linear'],
      inferenceConfig: { runtime: 'onnx' },
      deploymentConfig: { authEnabled: true },
    });
    assert.equal(created.status, 202);
    assert.equal(created.body.state, 'Transitioning');
    assert.deepEqual(created.body.models, ['linear:1']);
    const healthy: ServiceView = await waitFor(async () => {
      const r = await api('GET', '/api/services/api-svc');
      return r.body.state === 'Healthy' ? r.body : undefined;
    }, 'Healthy');
    const dup = await api('POST', '/api/services', { name: 'api-svc', models: ['linear'] });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.error.code, 'SERVICE_ALREADY_EXISTS');
    assert.match(dup.body.error.hint, /update/);

    const keys = await api('GET', '/api/services/api-svc/keys');
    assert.equal(keys.status, 200);
    assert.equal(
      (await postJson(healthy.scoringUri, LINEAR_BODY, { authorization: `Bearer ${keys.body.primaryKey}` }))
        .status,
      200,
    );
    const regen = await api('POST', '/api/services/api-svc/keys/regenerate', { key: 'primary' });
    assert.equal(regen.status, 200);
    assert.notEqual(regen.body.primaryKey, keys.body.primaryKey);
    assert.equal(regen.body.secondaryKey, keys.body.secondaryKey);
    const rolled: ServiceView = await waitFor(async () => {
      const r = await api('GET', '/api/services/api-svc');
      return r.body.observedGeneration >= regen.body.service.generation ? r.body : undefined;
    }, 'the new key');
    assert.equal(rolled.lastUpdate?.outcome, 'Succeeded', JSON.stringify(rolled.lastUpdate));
    // Fresh connections: a kept-alive one may still reach a draining replica of the old key for a moment.
    const fresh = { connection: 'close' };
    const withNew = await postJson(healthy.scoringUri, LINEAR_BODY, {
      ...fresh,
      authorization: `Bearer ${regen.body.primaryKey}`,
    });
    assert.equal(withNew.status, 200, JSON.stringify(withNew.body));
    const withOld = await postJson(healthy.scoringUri, LINEAR_BODY, {
      ...fresh,
      authorization: `Bearer ${keys.body.primaryKey}`,
    });
    assert.equal(withOld.status, 401);
    const badKey = await api('POST', '/api/services/api-svc/keys/regenerate', { key: 'tertiary' });
    assert.equal(badKey.status, 400);
    assert.equal(badKey.body.error.code, 'INVALID_ARGUMENT');

    const nothing = await api('POST', '/api/services/api-svc/update', {});
    assert.equal(nothing.status, 400);
    const update = await api('POST', '/api/services/api-svc/update', {
      deploymentConfig: { authEnabled: false },
    });
    assert.equal(update.status, 202);
    await waitFor(async () => {
      const r = await api('GET', '/api/services/api-svc');
      return r.body.observedGeneration >= update.body.generation && r.body.state === 'Healthy';
    }, 'the update');
    assert.equal((await postJson(healthy.scoringUri, LINEAR_BODY)).status, 200);

    const inUse = await api('DELETE', `/api/models/${encodeURIComponent('linear:1')}`);
    assert.equal(inUse.status, 409);
    assert.equal(inUse.body.error.code, 'MODEL_IN_USE');
    assert.match(inUse.body.error.message, /api-svc/);

    const logs = await fetch(`${cp!.info.url}/api/services/api-svc/logs?tail=5`, {
      headers: { authorization: `Bearer ${cp!.info.token}` },
    });
    assert.equal(logs.status, 200);
    assert.match(logs.headers.get('content-type') ?? '', /text\/plain/);
    assert.equal((await logs.text()).trim().split('\n').length, 5);

    // follow=true streams: the tail first, then new lines as they come.
    const controller = new AbortController();
    const follow = await fetch(`${cp!.info.url}/api/services/api-svc/logs?tail=1&follow=true`, {
      headers: { authorization: `Bearer ${cp!.info.token}` },
      signal: controller.signal,
    });
    assert.equal(follow.status, 200);
    const reader = follow.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    // tail=1 sends one line; a line appended in the same instant may ride in the same chunk.
    const firstLines = first.trim().split('\n').length;
    assert.ok(firstLines >= 1 && firstLines <= 2, `tail=1 sent ${firstLines} lines`);
    await postJson(healthy.scoringUri, LINEAR_BODY);
    const next = new TextDecoder().decode((await reader.read()).value);
    assert.match(next, /request/);
    controller.abort();

    const del = await api('DELETE', '/api/services/api-svc');
    assert.deepEqual(del, { status: 200, body: { name: 'api-svc', deleted: true } });
    const gone = await api('GET', '/api/services/api-svc');
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error.code, 'SERVICE_NOT_FOUND');
  });
});
