import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { parse, parseAllDocuments } from 'yaml';
import { BerthError } from '../../src/core/errors.js';
import { manifestList } from '../../src/deploy/targets/kubernetes/build-manifests.js';
import { KubernetesTarget } from '../../src/deploy/targets/kubernetes/kubernetes-target.js';
import { tempDir } from '../helpers/temp-dir.js';
import { compute, type Runtime, request } from './manifest-fixtures.js';

const MODELS = { Deployment, HorizontalPodAutoscaler, ConfigMap, Secret, Service } as const;

function validate(obj: { kind: string }): void {
  const Model = MODELS[obj.kind as keyof typeof MODELS];
  assert.ok(Model, `no schema for ${obj.kind}`);
  new Model(obj as never).validate();
}

const runtimes: Runtime[] = ['onnx', 'node', 'python'];
for (const runtime of runtimes) {
  for (const auth of [false, true]) {
    for (const autoscale of [false, true]) {
      for (const source of ['api', 'image'] as const) {
        test(`when a ${runtime} service has auth ${auth ? 'on' : 'off'}, autoscale ${autoscale ? 'on' : 'off'} and models from the ${source} then every object validates against the Kubernetes schemas`, (t) => {
          const dir = tempDir(t);
          const target = new KubernetesTarget(
            compute(source === 'api' ? { workspaceUrl: 'http://berth.example:8080' } : {}),
          );
          const req = request(dir, { runtime, auth, autoscale, resources: !(auth && autoscale) });
          const m = target.manifests(req);
          const objects = manifestList(m);
          for (const o of objects) validate(o);

          // Owner labels on every object; the selector matches the pod template.
          for (const o of objects) {
            assert.equal(o.metadata?.labels?.['app.kubernetes.io/managed-by'], 'berth');
            assert.equal(o.metadata?.labels?.['berth.dev/service'], req.name);
            assert.equal(o.metadata?.namespace, 'ml');
          }
          const spec = m.deployment.spec!;
          for (const [k, v] of Object.entries(spec.selector.matchLabels ?? {})) {
            assert.equal(spec.template.metadata?.labels?.[k], v);
          }
          assert.deepEqual(spec.strategy, {
            type: 'RollingUpdate',
            rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
          });
          const server = spec.template.spec!.containers[0];
          assert.equal(server.readinessProbe?.httpGet?.path, '/health/ready');
          assert.equal(server.livenessProbe?.httpGet?.path, '/health/live');
          assert.deepEqual(server.command, ['berth', 'serve', '--spec', '/var/run/berth/serve.json']);
          assert.equal(spec.template.spec!.initContainers?.[0].name, 'fetch-models');
          assert.match(server.image ?? '', /^registry\.example\.com\/team\/berth-svc-[a-z]+:[0-9a-f]{12}$/);

          // Replicas: from numReplicas, or left to the HPA.
          if (autoscale) {
            assert.equal(spec.replicas, undefined);
            assert.equal(m.hpa?.spec?.minReplicas, 2);
            assert.equal(m.hpa?.spec?.maxReplicas, 5);
            assert.equal(m.hpa?.spec?.metrics?.[0].resource?.target.averageUtilization, 60);
            assert.equal(m.hpa?.spec?.scaleTargetRef.name, req.name);
          } else {
            assert.equal(spec.replicas, 2);
            assert.equal(m.hpa, undefined);
          }

          // Resources from containerResourceRequirements (defaults when absent).
          if (auth && autoscale)
            assert.deepEqual(server.resources?.requests, { cpu: '100m', memory: '512Mi' });
          else assert.deepEqual(server.resources?.requests, { cpu: '500m', memory: '1536Mi' });

          // Keys in the Secret, referenced by the init container that writes serve.json.
          const env = spec.template.spec!.initContainers![0].env ?? [];
          if (auth) {
            assert.equal(m.secret?.stringData?.primaryKey, 'primary-key-0123456789');
            assert.ok(
              env.some(
                (e) => e.name === 'BERTH_PRIMARY_KEY' && e.valueFrom?.secretKeyRef?.key === 'primaryKey',
              ),
            );
          } else {
            assert.equal(m.secret?.stringData?.primaryKey, undefined);
            assert.ok(!env.some((e) => e.name === 'BERTH_PRIMARY_KEY'));
          }
          if (source === 'api') {
            assert.equal(m.secret?.stringData?.workspaceToken, 'workspace-token-xyz');
            assert.ok(
              env.some((e) => e.name === 'BERTH_WORKSPACE_URL' && e.value === 'http://berth.example:8080'),
            );
          } else if (!auth) {
            assert.equal(m.secret, undefined);
          }

          // The ConfigMap carries the inference config with the image's paths.
          const ic = JSON.parse(m.configMap.data!['inferenceconfig.json']);
          assert.equal(ic.runtime, runtime);
          if (runtime !== 'onnx') assert.equal(ic.sourceDirectory, '/app/code');
          const plan = JSON.parse(m.configMap.data!['models.json']);
          assert.equal(plan.source, source);
          assert.equal(
            plan.models[0].dir,
            source === 'api' ? '/var/lib/berth/models/mlp/3' : '/app/models/mlp/3',
          );
        });
      }
    }
  }
}

test('when the same service is rendered twice then the manifests are identical, and a new model version changes the pod template', (t) => {
  const dir = tempDir(t);
  const target = new KubernetesTarget(compute({ workspaceUrl: 'http://berth.example' }));
  const a = target.manifests(request(dir, { runtime: 'onnx', auth: true, autoscale: false }));
  const b = target.manifests(request(dir, { runtime: 'onnx', auth: true, autoscale: false }));
  assert.deepEqual(a, b);
  const r2 = request(dir, { runtime: 'onnx', auth: true, autoscale: false });
  r2.models = [{ ...r2.models[0], version: 4 }];
  const c = target.manifests(r2);
  const ann = (m: typeof a) => m.deployment.spec!.template.metadata!.annotations!;
  assert.notEqual(ann(c)['berth.dev/config-hash'], ann(a)['berth.dev/config-hash']);
  assert.equal(ann(c)['berth.dev/models'], 'mlp:4');
});

test('when the manifest YAML is rendered then it parses back to the same objects and hides secret values', (t) => {
  const dir = tempDir(t);
  const target = new KubernetesTarget(compute());
  const req = request(dir, { runtime: 'node', auth: true, autoscale: true });
  const yaml = target.manifestYaml(req);
  const docs = parseAllDocuments(yaml).map((d) => d.toJS());
  assert.deepEqual(
    docs.map((d) => d.kind),
    ['ConfigMap', 'Secret', 'Deployment', 'Service', 'HorizontalPodAutoscaler'],
  );
  assert.ok(!yaml.includes('primary-key-0123456789'));
  assert.equal(docs[1].stringData.primaryKey, '<redacted>');
  assert.deepEqual(docs[2], parse(renderOne(target.manifests(req).deployment)));
  assert.ok(target.manifestYaml(req, { showSecrets: true }).includes('primary-key-0123456789'));
});

function renderOne(o: object): string {
  return JSON.stringify(o);
}

for (const bad of ['My_Service', 'svc.v2', '9lives', `a${'b'.repeat(63)}`, 'trailing-']) {
  test(`when a service is named "${bad.length > 20 ? `${bad.slice(0, 12)}...` : bad}" then the manifests are refused with INVALID_NAME (exit 2)`, (t) => {
    const dir = tempDir(t);
    const target = new KubernetesTarget(compute());
    assert.throws(
      () => target.manifests(request(dir, { name: bad, runtime: 'onnx', auth: false, autoscale: false })),
      (err: unknown) => {
        assert.ok(err instanceof BerthError);
        assert.equal(err.code, 'INVALID_NAME');
        assert.equal(err.exitCode, 2);
        assert.equal(err.status, 400);
        assert.match(err.message, /Kubernetes/);
        assert.match(err.hint ?? '', /e\.g\. "[a-z]/);
        return true;
      },
    );
  });
}
