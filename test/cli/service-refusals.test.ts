import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ServiceView } from '../../src/deploy/service-view.js';
import { type DeployHarness, deployHarness, ENTRY_SCRIPTS } from '../deploy/deploy-fixtures.js';

/** Bad input to `berth model deploy`: each refused with its code and exit code, nothing deployed. */
describe('berth model deploy refusals', () => {
  const h: DeployHarness = deployHarness({ after });
  const ic = h.json('ic.json', { runtime: 'onnx' });
  before(async () => {
    assert.equal((await h.registerLinear('linear')).code, 0);
  });

  it('when the model reference is unknown then MODEL_NOT_FOUND and exit 3', async () => {
    const res = await h.berth(['model', 'deploy', '-n', 'svc', '-m', 'nosuchmodel:1', '--ic', ic]);
    assert.equal(res.code, 3, res.stderr);
    assert.match(res.stderr, /Code:\s+MODEL_NOT_FOUND/);
    const version = await h.berth(['model', 'deploy', '-n', 'svc', '-m', 'linear:9', '--ic', ic]);
    assert.equal(version.code, 3);
    assert.match(version.stderr, /MODEL_NOT_FOUND/);
  });

  it('when the model reference is malformed then INVALID_MODEL_REF and exit 2', async () => {
    const res = await h.berth(['model', 'deploy', '-n', 'svc', '-m', 'linear:zero', '--ic', ic]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /INVALID_MODEL_REF/);
  });

  it('when the entry script does not exist then ENTRY_SCRIPT_NOT_FOUND and exit 2', async () => {
    const missing = h.json('ic-missing.json', {
      runtime: 'node',
      entryScript: 'nope.js',
      sourceDirectory: ENTRY_SCRIPTS,
    });
    const res = await h.berth(['--json', 'model', 'deploy', '-n', 'svc', '-m', 'linear:1', '--ic', missing]);
    assert.equal(res.code, 2, res.stderr);
    assert.equal(JSON.parse(res.stderr).error.code, 'ENTRY_SCRIPT_NOT_FOUND');
    assert.match(JSON.parse(res.stderr).error.message, /nope\.js/);
  });

  it('when the deployment config has an unknown key then INVALID_CONFIG names it and exit 2', async () => {
    const dc = h.json('dc-bad.json', { computeType: 'local', replicas: 2 });
    const res = await h.berth(['model', 'deploy', '-n', 'svc', '-m', 'linear:1', '--ic', ic, '--dc', dc]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /INVALID_CONFIG/);
    assert.match(res.stderr, /replicas/);
  });

  it('when the deployment config has a wrong type or bound then INVALID_CONFIG names the key and exit 2', async () => {
    const dc = h.json('dc-type.json', { numReplicas: 'two', autoScaler: { minReplicas: 3, maxReplicas: 2 } });
    const res = await h.berth(['model', 'deploy', '-n', 'svc', '-m', 'linear:1', '--ic', ic, '--dc', dc]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /INVALID_CONFIG/);
    assert.match(res.stderr, /numReplicas/);
    const bounds = h.json('dc-bounds.json', {
      autoScaler: { autoscaleEnabled: true, minReplicas: 3, maxReplicas: 2 },
    });
    const res2 = await h.berth([
      'model',
      'deploy',
      '-n',
      'svc',
      '-m',
      'linear:1',
      '--ic',
      ic,
      '--dc',
      bounds,
    ]);
    assert.equal(res2.code, 2);
    assert.match(res2.stderr, /minReplicas/);
  });

  it('when the inference config is invalid or not JSON then INVALID_CONFIG and exit 2', async () => {
    const bad = h.json('ic-bad.json', { runtime: 'java' });
    const res = await h.berth(['model', 'deploy', '-n', 'svc', '-m', 'linear:1', '--ic', bad]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /INVALID_CONFIG/);
    assert.match(res.stderr, /runtime/);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(h.dir, 'broken.json'), '{"runtime": "onnx",}');
    const broken = await h.berth([
      'model',
      'deploy',
      '-n',
      'svc',
      '-m',
      'linear:1',
      '--ic',
      join(h.dir, 'broken.json'),
    ]);
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /INVALID_CONFIG/);
    const absent = await h.berth([
      'model',
      'deploy',
      '-n',
      'svc',
      '-m',
      'linear:1',
      '--ic',
      join(h.dir, 'absent.json'),
    ]);
    assert.equal(absent.code, 2);
    assert.match(absent.stderr, /PATH_NOT_FOUND/);
  });

  it('when the compute type is kubernetes and no compute is attached then COMPUTE_NOT_FOUND hints at compute attach and exit 3', async () => {
    const dc = h.json('dc-k8s.json', { computeType: 'kubernetes' });
    const res = await h.berth(['model', 'deploy', '-n', 'svc', '-m', 'linear:1', '--ic', ic, '--dc', dc]);
    assert.equal(res.code, 3, res.stderr);
    assert.match(res.stderr, /COMPUTE_NOT_FOUND/);
    assert.match(res.stderr, /berth compute attach/);
  });

  it('when the port is already in use then PORT_IN_USE names it and exit 4', async (t) => {
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => server.close());
    const port = (server.address() as { port: number }).port;
    const dc = h.json('dc-port.json', { computeType: 'local', port });
    const res = await h.berth(['model', 'deploy', '-n', 'svc', '-m', 'linear:1', '--ic', ic, '--dc', dc]);
    assert.equal(res.code, 4, res.stderr);
    assert.match(res.stderr, /PORT_IN_USE/);
    assert.match(res.stderr, new RegExp(String(port)));
  });

  it('when a service name is deployed twice then SERVICE_ALREADY_EXISTS points to update and exit 4', async () => {
    const first = await h.berth(['--json', 'model', 'deploy', '-n', 'twice', '-m', 'linear:1', '--ic', ic]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.json<ServiceView>().state, 'Healthy');
    const second = await h.berth(['model', 'deploy', '-n', 'twice', '-m', 'linear:1', '--ic', ic]);
    assert.equal(second.code, 4);
    assert.match(second.stderr, /SERVICE_ALREADY_EXISTS/);
    assert.match(second.stderr, /Try:.*berth service update twice/);
    // A second service may not take the first one's port either.
    const dc = h.json('dc-same-port.json', { port: first.json<ServiceView>().port });
    const clash = await h.berth(['model', 'deploy', '-n', 'other', '-m', 'linear:1', '--ic', ic, '--dc', dc]);
    assert.equal(clash.code, 4);
    assert.match(clash.stderr, /PORT_IN_USE/);
    assert.match(clash.stderr, /twice/);
  });

  it('when a service name is not allowed then INVALID_NAME and exit 2', async () => {
    const res = await h.berth(['model', 'deploy', '-n', 'bad name!', '-m', 'linear:1', '--ic', ic]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /INVALID_NAME/);
  });

  it('when an unknown service is shown, updated or deleted then SERVICE_NOT_FOUND and exit 3', async () => {
    for (const args of [
      ['service', 'show', 'ghost'],
      ['service', 'update', 'ghost', '-m', 'linear:1'],
      ['service', 'delete', 'ghost'],
      ['service', 'logs', 'ghost'],
      ['service', 'keys', 'ghost'],
    ]) {
      const res = await h.berth(args);
      assert.equal(res.code, 3, `${args.join(' ')}: ${res.stderr}`);
      assert.match(res.stderr, /SERVICE_NOT_FOUND/);
    }
  });
});
