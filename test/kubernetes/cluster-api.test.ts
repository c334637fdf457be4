import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BerthError } from '../../src/core/errors.js';
import { manifestList } from '../../src/deploy/targets/kubernetes/build-manifests.js';
import { KubernetesTarget } from '../../src/deploy/targets/kubernetes/kubernetes-target.js';
import { tempDir } from '../helpers/temp-dir.js';
import { FakeKubeApi } from './fake-kube-api.js';
import { compute, request } from './manifest-fixtures.js';

/** @kubernetes/client-node 2.0.1 pulls undici 8, which needs Node >= 22.19; on Node 20 it needs the undici 7 override. */
const clientNodeProblem = await import('@kubernetes/client-node').then(
  () => undefined,
  (err: Error) =>
    `@kubernetes/client-node cannot be loaded on Node ${process.version} (${err.message.split('\n')[0]}); package.json needs "overrides": {"undici": "^7.16.0"}`,
);

function ktest(name: string, fn: (t: import('node:test').TestContext) => Promise<void>): void {
  test(name, { skip: clientNodeProblem }, fn);
}

const SELECTOR = 'app.kubernetes.io/managed-by=berth,berth.dev/service=svc-onnx';

async function setup(
  t: import('node:test').TestContext,
  opts: { namespace?: string; context?: string } = {},
) {
  const dir = tempDir(t);
  const api = await new FakeKubeApi().start();
  t.after(() => api.close());
  const kubeconfig = api.writeKubeconfig(dir);
  const target = new KubernetesTarget(
    compute({
      kubeconfig,
      context: opts.context ?? 'test',
      namespace: opts.namespace ?? 'ml',
      workspaceUrl: 'http://berth.example',
    }),
  );
  return { dir, api, target, kubeconfig };
}

function assertBerthError(err: unknown, code: string, exit: number, status: number): true {
  assert.ok(err instanceof BerthError, `expected a BerthError, got ${err}`);
  assert.equal(err.code, code, err.message);
  assert.equal(err.exitCode, exit);
  assert.equal(err.status, status);
  return true;
}

ktest(
  'when a service is applied then each object is sent by server-side apply with field manager berth, forced, as apply-patch+yaml',
  async (t) => {
    const { dir, api, target } = await setup(t);
    const req = request(dir, { runtime: 'onnx', auth: true, autoscale: true });
    const applied = await target.apply(req);
    assert.deepEqual(applied, [
      'ConfigMap/svc-onnx-config',
      'Secret/svc-onnx-keys',
      'Deployment/svc-onnx',
      'Service/svc-onnx',
      'HorizontalPodAutoscaler/svc-onnx',
    ]);
    assert.deepEqual(api.calls(), [
      'GET /api/v1/namespaces/ml',
      'PATCH /api/v1/namespaces/ml/configmaps/svc-onnx-config',
      'PATCH /api/v1/namespaces/ml/secrets/svc-onnx-keys',
      'PATCH /apis/apps/v1/namespaces/ml/deployments/svc-onnx',
      'PATCH /api/v1/namespaces/ml/services/svc-onnx',
      'PATCH /apis/autoscaling/v2/namespaces/ml/horizontalpodautoscalers/svc-onnx',
    ]);
    const patches = api.requests.filter((r) => r.method === 'PATCH');
    const expected = manifestList(target.manifests(req));
    patches.forEach((r, i) => {
      assert.equal(r.contentType, 'application/apply-patch+yaml');
      assert.equal(r.query.fieldManager, 'berth');
      assert.equal(r.query.force, 'true');
      assert.deepEqual(r.body, JSON.parse(JSON.stringify(expected[i])));
    });
    assert.equal(api.get('secrets', 'ml', 'svc-onnx-keys')?.stringData && true, true);
  },
);

ktest(
  'when an applied service is updated then the objects are re-applied, the pod template changes and a dropped HPA and Secret are deleted',
  async (t) => {
    const { dir, api, target } = await setup(t);
    await target.apply(request(dir, { runtime: 'onnx', auth: true, autoscale: true }));
    const before = api.get('deployments', 'ml', 'svc-onnx');
    api.requests.length = 0;

    const next = request(dir, { runtime: 'onnx', auth: false, autoscale: false });
    next.models = [{ ...next.models[0], version: 4 }];
    next.workspaceToken = undefined;
    await target.apply(next);
    const after = api.get('deployments', 'ml', 'svc-onnx');
    const hash = (d: typeof before) =>
      (d!.spec as { template: { metadata: { annotations: Record<string, string> } } }).template.metadata
        .annotations['berth.dev/config-hash'];
    assert.notEqual(hash(after), hash(before));
    assert.equal((after!.spec as { replicas: number }).replicas, 2);
    assert.ok(after!.metadata.generation! > before!.metadata.generation!);
    assert.deepEqual(
      api.calls().filter((c) => c.startsWith('DELETE')),
      [
        'DELETE /apis/autoscaling/v2/namespaces/ml/horizontalpodautoscalers/svc-onnx',
        'DELETE /api/v1/namespaces/ml/secrets/svc-onnx-keys',
      ],
    );
    const lists = api.requests.filter((r) => r.method === 'GET' && r.query.labelSelector);
    for (const l of lists) assert.equal(l.query.labelSelector, SELECTOR);
    assert.equal(api.get('horizontalpodautoscalers', 'ml', 'svc-onnx'), undefined);
  },
);

ktest(
  'when a service is deleted then exactly the objects with its owner labels are removed and others stay',
  async (t) => {
    const { dir, api, target } = await setup(t);
    await target.apply(request(dir, { runtime: 'onnx', auth: true, autoscale: true }));
    await target.apply(request(dir, { name: 'svc-other', runtime: 'onnx', auth: false, autoscale: false }));
    // Same name prefix, no Berth labels: someone else's.
    api.put('configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'svc-onnx-extra', namespace: 'ml', labels: { 'berth.dev/service': 'svc-onnx' } },
    });
    api.requests.length = 0;

    const deleted = await target.delete('svc-onnx');
    assert.deepEqual(deleted, [
      'HorizontalPodAutoscaler/svc-onnx',
      'Service/svc-onnx',
      'Deployment/svc-onnx',
      'Secret/svc-onnx-keys',
      'ConfigMap/svc-onnx-config',
    ]);
    assert.deepEqual(
      api.calls().filter((c) => c.startsWith('DELETE')),
      [
        'DELETE /apis/autoscaling/v2/namespaces/ml/horizontalpodautoscalers/svc-onnx',
        'DELETE /api/v1/namespaces/ml/services/svc-onnx',
        'DELETE /apis/apps/v1/namespaces/ml/deployments/svc-onnx',
        'DELETE /api/v1/namespaces/ml/secrets/svc-onnx-keys',
        'DELETE /api/v1/namespaces/ml/configmaps/svc-onnx-config',
      ],
    );
    const remaining = [...api.objects.keys()].sort();
    assert.deepEqual(remaining, [
      'configmaps/ml/svc-onnx-extra',
      'configmaps/ml/svc-other-config',
      'deployments/ml/svc-other',
      'secrets/ml/svc-other-keys',
      'services/ml/svc-other',
    ]);
    // Deleting again is harmless.
    assert.deepEqual(await target.delete('svc-onnx'), []);
  },
);

ktest(
  'when the Deployment is rolled out and its pods are ready then the service shows Healthy',
  async (t) => {
    const { dir, api, target } = await setup(t);
    await target.apply(request(dir, { runtime: 'onnx', auth: false, autoscale: false }));
    const d = api.get('deployments', 'ml', 'svc-onnx')!;
    d.status = {
      observedGeneration: d.metadata.generation,
      replicas: 2,
      updatedReplicas: 2,
      readyReplicas: 2,
      availableReplicas: 2,
    };
    for (const n of ['a', 'b']) {
      api.put('pods', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `svc-onnx-1-${n}`, namespace: 'ml', labels: d.metadata.labels },
        status: {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: 'True' }],
          containerStatuses: [{ name: 'server', ready: true, restartCount: 0, image: 'x', imageID: 'x' }],
        },
      });
    }
    const o = await target.observe('svc-onnx');
    assert.equal(o.state, 'Healthy');
    assert.deepEqual(o.replicas, { desired: 2, ready: 2, updated: 2, available: 2 });
    assert.equal(o.pods.length, 2);
    const podList = api.requests.find((r) => r.path === '/api/v1/namespaces/ml/pods');
    assert.equal(podList?.query.labelSelector, SELECTOR);
  },
);

ktest(
  'when the init container keeps failing then the service shows Failed and says which pod and why',
  async (t) => {
    const { dir, api, target } = await setup(t);
    await target.apply(request(dir, { runtime: 'onnx', auth: false, autoscale: false }));
    const d = api.get('deployments', 'ml', 'svc-onnx')!;
    d.status = {
      observedGeneration: d.metadata.generation,
      replicas: 1,
      updatedReplicas: 1,
      readyReplicas: 0,
      availableReplicas: 0,
    };
    api.put('pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'svc-onnx-1-a', namespace: 'ml', labels: d.metadata.labels },
      status: {
        phase: 'Pending',
        initContainerStatuses: [
          {
            name: 'fetch-models',
            ready: false,
            restartCount: 4,
            image: 'x',
            imageID: 'x',
            state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 1m20s' } },
            lastState: { terminated: { exitCode: 1, reason: 'Error' } },
          },
        ],
      },
    });
    api.logs.set(
      'svc-onnx-1-a/fetch-models',
      '{"level":50,"msg":"model mlp:3 file \\"mlp.onnx\\" has sha256 ..."}\n',
    );
    const o = await target.observe('svc-onnx');
    assert.equal(o.state, 'Failed');
    assert.match(
      o.message ?? '',
      /svc-onnx-1-a: init container fetch-models: CrashLoopBackOff \(exit 1, Error\)/,
    );
    assert.equal(o.pods[0].restarts, 4);

    const logs = await target.logs('svc-onnx', { tail: 50 });
    assert.match(logs, /^svc-onnx-1-a\/fetch-models \{"level":50,"msg":"model mlp:3 file/m);
    const logReq = api.requests.find((r) => r.path.endsWith('/log') && r.query.container === 'fetch-models');
    assert.equal(logReq?.path, '/api/v1/namespaces/ml/pods/svc-onnx-1-a/log');
    assert.equal(logReq?.query.tailLines, '50');
  },
);

ktest('when a rollout is in progress then the service shows Transitioning', async (t) => {
  const { dir, api, target } = await setup(t);
  await target.apply(request(dir, { runtime: 'onnx', auth: false, autoscale: false }));
  const d = api.get('deployments', 'ml', 'svc-onnx')!;
  d.status = {
    observedGeneration: d.metadata.generation,
    replicas: 3,
    updatedReplicas: 1,
    readyReplicas: 2,
    availableReplicas: 2,
  };
  assert.equal((await target.observe('svc-onnx')).state, 'Transitioning');
});

ktest('when the Deployment is missing then observe says Failed with a reason', async (t) => {
  const { target } = await setup(t);
  const o = await target.observe('svc-onnx');
  assert.equal(o.state, 'Failed');
  assert.match(o.message ?? '', /does not exist/);
});

ktest(
  'when the API server answers 403 then apply fails with CLUSTER_FORBIDDEN (403, exit 5) naming the context',
  async (t) => {
    const { dir, api, target } = await setup(t);
    api.forbidden =
      'deployments.apps is forbidden: User "tester" cannot patch resource "deployments" in namespace "ml"';
    await assert.rejects(
      target.apply(request(dir, { runtime: 'onnx', auth: false, autoscale: false })),
      (err) => {
        assertBerthError(err, 'CLUSTER_FORBIDDEN', 5, 403);
        assert.match((err as BerthError).message, /forbidden: User "tester"/);
        assert.match((err as BerthError).hint ?? '', /RBAC/);
        return true;
      },
    );
  },
);

ktest(
  'when the namespace does not exist then apply fails with NAMESPACE_NOT_FOUND (404, exit 3) before writing anything',
  async (t) => {
    const { dir, api, target } = await setup(t, { namespace: 'missing' });
    await assert.rejects(
      target.apply(request(dir, { runtime: 'onnx', auth: false, autoscale: false })),
      (err) => {
        assertBerthError(err, 'NAMESPACE_NOT_FOUND', 3, 404);
        assert.match((err as BerthError).message, /"missing"/);
        return true;
      },
    );
    assert.equal(api.requests.filter((r) => r.method === 'PATCH').length, 0);
  },
);

ktest(
  'when the cluster is unreachable then apply, observe and delete fail with CLUSTER_UNREACHABLE (503, exit 8)',
  async (t) => {
    const dir = tempDir(t);
    const api = await new FakeKubeApi().start();
    const url = api.url;
    await api.close();
    const kubeconfig = api.writeKubeconfig(dir, url);
    const target = new KubernetesTarget(compute({ kubeconfig, context: 'test' }));
    for (const op of [
      () => target.apply(request(dir, { runtime: 'onnx', auth: false, autoscale: false })),
      () => target.observe('svc-onnx'),
      () => target.delete('svc-onnx'),
    ]) {
      await assert.rejects(op(), (err) => {
        assertBerthError(err, 'CLUSTER_UNREACHABLE', 8, 503);
        assert.match((err as BerthError).message, new RegExp(url.replace(/\./g, '\\.')));
        return true;
      });
    }
  },
);

ktest(
  'when the kubeconfig lacks the context or cannot be read then KUBECONFIG_INVALID (400, exit 2) lists the contexts',
  async (t) => {
    const { kubeconfig, dir } = await setup(t);
    const missingContext = new KubernetesTarget(compute({ kubeconfig, context: 'prod' }));
    await assert.rejects(missingContext.observe('svc-onnx'), (err) => {
      assertBerthError(err, 'KUBECONFIG_INVALID', 2, 400);
      assert.match((err as BerthError).message, /no context "prod"/);
      assert.match((err as BerthError).hint ?? '', /test, other/);
      return true;
    });
    const missingFile = new KubernetesTarget(compute({ kubeconfig: `${dir}/nope.yaml` }));
    await assert.rejects(missingFile.observe('svc-onnx'), (err) =>
      assertBerthError(err, 'KUBECONFIG_INVALID', 2, 400),
    );
  },
);
