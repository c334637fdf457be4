import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServiceView } from '../../src/deploy/service-view.js';
import { FakeKubeApi } from '../kubernetes/fake-kube-api.js';
import { deployHarness, waitFor } from './deploy-fixtures.js';

const clientNodeProblem = await import('@kubernetes/client-node').then(
  () => undefined,
  () => `@kubernetes/client-node cannot be loaded on Node ${process.version}`,
);

/** Requests that change the cluster (apply and delete), as `METHOD path`. */
function writes(api: FakeKubeApi): string[] {
  return api.calls().filter((c) => c.startsWith('PATCH') || c.startsWith('DELETE'));
}

test('when a model is deployed with computeType kubernetes then the objects are applied, show maps the Deployment status, logs read the pods and delete removes the objects', {
  skip: clientNodeProblem,
}, async (t) => {
  const h = deployHarness(t);
  const api = await new FakeKubeApi().start();
  t.after(() => api.close());
  const kubeconfig = api.writeKubeconfig(h.dir);
  const attach = await h.berth([
    'compute',
    'attach',
    'k1',
    '--kubeconfig',
    kubeconfig,
    '--image',
    'reg.example/berth:1',
  ]);
  assert.equal(attach.code, 0, attach.stderr);
  assert.equal((await h.registerLinear()).code, 0);
  const dc = h.json('dc-k8s.json', { computeType: 'kubernetes', numReplicas: 2 });

  // --dry-run prints the YAML and applies nothing (the seed's -ct spelling names the compute).
  const dry = await h.berth([
    'model',
    'deploy',
    '-n',
    'svc',
    '-m',
    'linear:1',
    '--dc',
    dc,
    '-ct',
    'k1',
    '--dry-run',
  ]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /kind: Deployment/);
  assert.match(dry.stdout, /kind: Service\b/);
  assert.deepEqual(writes(api), []);
  assert.equal((await h.jsonOk<ServiceView[]>(['service', 'list'])).length, 0);

  const deployed = await h.jsonOk<ServiceView>([
    'model',
    'deploy',
    '-n',
    'svc',
    '-m',
    'linear:1',
    '--dc',
    dc,
    '--compute',
    'k1',
    '--no-wait',
  ]);
  assert.equal(deployed.computeType, 'kubernetes');
  assert.equal(deployed.scoringUri, 'http://svc.ml.svc.cluster.local/score');

  // Applied one object after the other; the service record says when all were.
  await waitFor(async () => {
    const s = await h.jsonOk<ServiceView>(['service', 'show', 'svc']);
    return s.observedGeneration === 1;
  }, 'generation 1 applied');
  const deployment = api.get('deployments', 'ml', 'svc');
  assert.ok(deployment, JSON.stringify(api.calls()));
  const patches = api.requests.filter((r) => r.method === 'PATCH');
  assert.ok(patches.length >= 3, JSON.stringify(api.calls()));
  for (const p of patches) {
    assert.equal(p.query.fieldManager, 'berth', p.path);
    assert.equal(p.contentType, 'application/apply-patch+yaml', p.path);
  }
  const applied = patches.map((p) => p.path);
  assert.ok(applied.includes('/apis/apps/v1/namespaces/ml/deployments/svc'), applied.join('\n'));
  assert.ok(applied.includes('/api/v1/namespaces/ml/services/svc'), applied.join('\n'));
  assert.equal((deployment.spec as { replicas: number }).replicas, 2);

  // No controller runs in the fake: before any status the service is rolling out.
  const rolling = await waitFor(async () => {
    const s = await h.jsonOk<ServiceView>(['service', 'show', 'svc']);
    return s.state === 'Transitioning' && s.observedGeneration === 1 ? s : undefined;
  }, 'Transitioning');
  assert.equal(rolling.error?.includes('0/2 replicas ready'), true, rolling.error ?? '');

  deployment.status = {
    observedGeneration: deployment.metadata.generation,
    replicas: 2,
    updatedReplicas: 2,
    readyReplicas: 2,
    availableReplicas: 2,
  };
  const healthy = await waitFor(async () => {
    const s = await h.jsonOk<ServiceView>(['service', 'show', 'svc']);
    return s.state === 'Healthy' ? s : undefined;
  }, 'Healthy');
  assert.deepEqual(healthy.replicas, { desired: 2, ready: 2 });
  assert.equal(healthy.error, null);

  // An update re-applies the objects (same compute and namespace): the Deployment gets the new replicas.
  const dc3 = h.json('dc-k8s-3.json', { computeType: 'kubernetes', numReplicas: 3 });
  const updated = await h.berth(['service', 'update', 'svc', '--dc', dc3, '--no-wait']);
  assert.equal(updated.code, 0, updated.stderr);
  await waitFor(
    () => (api.get('deployments', 'ml', 'svc')?.spec as { replicas?: number } | undefined)?.replicas === 3,
    'the update applied',
  );

  const labels = { 'app.kubernetes.io/managed-by': 'berth', 'berth.dev/service': 'svc' };
  api.put('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'svc-abc', namespace: 'ml', labels } });
  api.logs.set('svc-abc/server', 'Listening on http://0.0.0.0:5001\n');
  const logs = await h.berth(['service', 'logs', 'svc']);
  assert.equal(logs.code, 0, logs.stderr);
  assert.match(logs.stdout, /svc-abc\/server Listening on/);

  // An object of the namespace that Berth did not create stays.
  api.put('configmaps', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'other', namespace: 'ml' },
  });
  const del = await h.berth(['service', 'delete', 'svc']);
  assert.equal(del.code, 0, del.stderr);
  const deletes = writes(api).filter((c) => c.startsWith('DELETE'));
  for (const path of [
    'DELETE /apis/apps/v1/namespaces/ml/deployments/svc',
    'DELETE /api/v1/namespaces/ml/services/svc',
    'DELETE /api/v1/namespaces/ml/configmaps/svc-config',
  ]) {
    assert.ok(deletes.includes(path), `${path} not in\n${deletes.join('\n')}`);
  }
  assert.equal(api.get('deployments', 'ml', 'svc'), undefined);
  assert.ok(api.get('configmaps', 'ml', 'other'));
  assert.equal((await h.jsonOk<ServiceView[]>(['service', 'list'])).length, 0);
});

test('when the cluster is unreachable then the kubernetes service shows Failed with the reason, and delete still removes it', {
  skip: clientNodeProblem,
}, async (t) => {
  const h = deployHarness(t);
  const api = await new FakeKubeApi().start();
  t.after(() => api.close());
  const kubeconfig = api.writeKubeconfig(h.dir, 'http://127.0.0.1:1');
  const attach = await h.berth(['compute', 'attach', 'gone', '--kubeconfig', kubeconfig, '--no-check']);
  assert.equal(attach.code, 0, attach.stderr);
  assert.equal((await h.registerLinear()).code, 0);
  const dc = h.json('dc-k8s.json', { computeType: 'kubernetes' });

  const deployed = await h.berth(['model', 'deploy', '-n', 'svc', '-m', 'linear:1', '--dc', dc, '--no-wait']);
  assert.equal(deployed.code, 0, deployed.stderr);
  const failed = await waitFor(async () => {
    const s = await h.jsonOk<ServiceView>(['service', 'show', 'svc']);
    return s.state === 'Failed' ? s : undefined;
  }, 'Failed');
  assert.match(failed.error ?? '', /Cannot reach the Kubernetes API server/);
  assert.ok(failed.conditions.some((c) => c.reason === 'ApplyFailed'));

  const del = await h.berth(['service', 'delete', 'svc']);
  assert.equal(del.code, 0, del.stderr);
  assert.equal((await h.jsonOk<ServiceView[]>(['service', 'list'])).length, 0);
});

test('when --dry-run is asked of a local deployment then INVALID_ARGUMENT and exit 2', async (t) => {
  const h = deployHarness(t);
  assert.equal((await h.registerLinear()).code, 0);
  const res = await h.berth(['model', 'deploy', '-n', 'svc', '-m', 'linear:1', '--dry-run']);
  assert.equal(res.code, 2, res.stderr);
  assert.match(res.stderr, /INVALID_ARGUMENT/);
});
