import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDeploymentConfig } from '../../src/core/config/deployment-config.js';
import { parseInferenceConfig } from '../../src/core/config/inference-config.js';
import type { KubernetesCompute } from '../../src/deploy/targets/kubernetes/compute-store.js';
import type { KubernetesServiceRequest } from '../../src/deploy/targets/kubernetes/kubernetes-target.js';

export const SHA_A = 'a'.repeat(64);

/** A compute as `berth compute attach` stores it. */
export function compute(overrides: Partial<KubernetesCompute> = {}): KubernetesCompute {
  return {
    name: 'test-cluster',
    type: 'kubernetes',
    kubeconfig: '/nonexistent/kubeconfig',
    context: 'test',
    namespace: 'ml',
    imageRegistry: 'registry.example.com/team',
    attachedAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

export type Runtime = 'onnx' | 'node' | 'python';

/** A service request for one runtime, with auth and autoscale switched as asked. */
export function request(
  dir: string,
  opts: { name?: string; runtime: Runtime; auth: boolean; autoscale: boolean; resources?: boolean },
): KubernetesServiceRequest {
  const src = join(dir, 'src');
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, 'score.js'), 'export function init() {}\nexport function run(x) { return x; }\n');
  writeFileSync(join(src, 'score.py'), 'def init():\n    pass\n\ndef run(raw):\n    return raw\n');
  writeFileSync(join(src, 'env.yml'), 'dependencies:\n  - numpy\n');
  const ic =
    opts.runtime === 'onnx'
      ? { runtime: 'onnx' }
      : opts.runtime === 'node'
        ? {
            runtime: 'node',
            entryScript: 'score.js',
            sourceDirectory: 'src',
            dependencies: { 'is-number': '7.0.0' },
          }
        : { runtime: 'python', entryScript: 'score.py', sourceDirectory: 'src', condaFile: 'env.yml' };
  return {
    name: opts.name ?? `svc-${opts.runtime}`,
    desired: {
      inferenceConfig: parseInferenceConfig(ic, dir),
      deploymentConfig: parseDeploymentConfig({
        computeType: 'kubernetes',
        numReplicas: 2,
        authEnabled: opts.auth,
        ...(opts.resources === false ? {} : { containerResourceRequirements: { cpu: 0.5, memoryInGB: 1.5 } }),
        autoScaler: {
          autoscaleEnabled: opts.autoscale,
          minReplicas: 2,
          maxReplicas: 5,
          targetUtilization: 60,
        },
      }),
      keys: { primaryKey: 'primary-key-0123456789', secondaryKey: 'secondary-key-0123456789' },
    },
    models: [
      { name: 'mlp', version: 3, sha256: SHA_A, files: [{ path: 'mlp.onnx', sha256: SHA_A, size: 941007 }] },
    ],
    workspaceToken: 'workspace-token-xyz',
  };
}
