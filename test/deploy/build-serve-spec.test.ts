import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDeploymentConfig } from '../../src/core/config/deployment-config.js';
import { buildServeSpec } from '../../src/deploy/build-serve-spec.js';
import { servicePaths } from '../../src/deploy/service-paths.js';
import { SERVE_DEFAULTS } from '../../src/serving/serve-defaults.js';
import type { ServiceDesired } from '../../src/store/service-store.js';

function desired(dc: unknown): ServiceDesired {
  return {
    models: ['iris:1'],
    inferenceConfig: { runtime: 'onnx' },
    deploymentConfig: parseDeploymentConfig(dc),
    keys: { primaryKey: 'p'.repeat(32), secondaryKey: 's'.repeat(32) },
    port: 5123,
  };
}

const paths = servicePaths('/ws', 'svc');
const models = [{ name: 'iris', version: 1, path: '/ws/models/iris/1' }];

test('when a deployment config has defaults only then the spec serves one replica on 127.0.0.1 without keys', () => {
  const spec = buildServeSpec({ name: 'svc', desired: desired({}), models, paths });
  assert.equal(spec.host, '127.0.0.1');
  assert.equal(spec.port, 5123);
  assert.equal(spec.replicas, 1);
  assert.equal(spec.keys, undefined);
  assert.equal(spec.autoscale, undefined);
  assert.equal(spec.dataCollectionDir, undefined);
  assert.deepEqual(spec.limits, { ...SERVE_DEFAULTS });
  assert.equal(spec.logFile, '/ws/services/svc/service.log');
  assert.equal(spec.stateFile, '/ws/services/svc/state.json');
});

test('when auth, limits, data collection and autoscale are set then the spec carries their local meaning', () => {
  const spec = buildServeSpec({
    name: 'svc',
    desired: desired({
      authEnabled: true,
      numReplicas: 5,
      scoringTimeoutMs: 1000,
      maxConcurrentRequestsPerContainer: 8,
      maxQueueWaitMs: 50,
      dataCollection: { storageEnabled: true },
      autoScaler: { autoscaleEnabled: true, minReplicas: 2, maxReplicas: 3, targetUtilization: 50 },
      containerResourceRequirements: { cpu: 2, memoryInGB: 4 },
    }),
    models,
    paths,
    environmentDir: '/ws/environments/abc',
  });
  assert.deepEqual(spec.keys, ['p'.repeat(32), 's'.repeat(32)]);
  assert.equal(spec.limits.scoringTimeoutMs, 1000);
  assert.equal(spec.limits.maxConcurrentRequestsPerContainer, 8);
  assert.equal(spec.limits.maxQueueWaitMs, 50);
  assert.equal(spec.dataCollectionDir, '/ws/services/svc/data');
  assert.deepEqual(spec.autoscale, {
    minReplicas: 2,
    maxReplicas: 3,
    targetUtilization: 50,
    refreshPeriodInSeconds: 1,
  });
  assert.equal(spec.replicas, 3, 'numReplicas clamped into the autoscale bounds');
  assert.equal(spec.environmentDir, '/ws/environments/abc');
});
