import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { parseDeploymentConfig } from '../../src/core/config/deployment-config.js';
import { parseInferenceConfig } from '../../src/core/config/inference-config.js';
import { KubernetesTarget } from '../../src/deploy/targets/kubernetes/kubernetes-target.js';
import { buildLinearModel } from '../fixtures/models/onnx-model-builder.js';

/**
 * End to end against a real cluster. Needs:
 *   BERTH_TEST_KUBECONFIG   kubeconfig of a disposable cluster (kind, k3d, minikube)
 *   BERTH_TEST_IMAGE        an image the cluster can pull, built from a package of the linear test model:
 *                           berth model package -m linear:1 --ic inferenceconfig.onnx.json -o ctx && docker build -t IMAGE ctx
 *   BERTH_TEST_KUBE_CONTEXT / BERTH_TEST_KUBE_NAMESPACE (optional; default current-context / default)
 */
const kubeconfig = process.env.BERTH_TEST_KUBECONFIG;
const image = process.env.BERTH_TEST_IMAGE;
const skip = !kubeconfig
  ? 'BERTH_TEST_KUBECONFIG is not set: no Kubernetes cluster on this machine'
  : !image
    ? 'BERTH_TEST_IMAGE is not set: the cluster needs an image built from a service package'
    : undefined;

test('when a service is applied to a real cluster then it becomes Healthy, logs its model check, and delete removes it', {
  skip,
  timeout: 600_000,
}, async () => {
  const bytes = Buffer.from(buildLinearModel());
  const sha = createHash('sha256').update(bytes).digest('hex');
  const target = new KubernetesTarget({
    name: 'e2e',
    type: 'kubernetes',
    kubeconfig: kubeconfig!,
    context: process.env.BERTH_TEST_KUBE_CONTEXT ?? '',
    namespace: process.env.BERTH_TEST_KUBE_NAMESPACE ?? 'default',
    image,
    attachedAt: new Date().toISOString(),
  });
  const name = `berth-e2e-${Date.now().toString(36)}`;
  const request = {
    name,
    desired: {
      inferenceConfig: parseInferenceConfig({ runtime: 'onnx' }, process.cwd()),
      deploymentConfig: parseDeploymentConfig({ computeType: 'kubernetes', numReplicas: 1 }),
      keys: { primaryKey: 'unused-primary', secondaryKey: 'unused-secondary' },
    },
    models: [
      {
        name: 'linear',
        version: 1,
        sha256: sha,
        files: [{ path: 'linear.onnx', sha256: sha, size: bytes.length }],
      },
    ],
  };
  try {
    await target.apply(request);
    const deadline = Date.now() + 300_000;
    let state = '';
    while (Date.now() < deadline) {
      const o = await target.observe(name);
      state = `${o.state} ${o.message ?? ''}`;
      if (o.state === 'Healthy' || o.state === 'Failed') break;
      await new Promise((r) => setTimeout(r, 3000));
    }
    assert.match(state, /^Healthy/);
    assert.match(await target.logs(name), /fetch-models .*model linear:1 verified/);
  } finally {
    await target.delete(name);
  }
  assert.equal((await target.observe(name)).state, 'Failed');
});
