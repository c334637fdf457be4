import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BERTH_BIN, type CliResult, runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/temp-dir.js';
import { FakeKubeApi } from './fake-kube-api.js';

const ENTRY = fileURLToPath(new URL('./compute-cli-entry.ts', import.meta.url));
const wired = (await runCli(['compute', 'list', '--help'])).stdout.includes('List the attached computes');

/** `berth ARGS` through bin/berth.js when main.ts registers `compute`, else through the stand-in entry. */
function berth(args: string[]): Promise<CliResult> {
  if (wired) return runCli(args);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
      env: { ...process.env, BERTH_WORKSPACE: undefined },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr, json: <T>() => JSON.parse(stdout) as T }));
  });
}

const clientNodeProblem = await import('@kubernetes/client-node').then(
  () => undefined,
  () =>
    `@kubernetes/client-node cannot be loaded on Node ${process.version}; package.json needs the undici 7 override`,
);

test(`when computes are attached, listed, shown and detached then computes.json follows (via ${wired ? BERTH_BIN : 'the stand-in entry'})`, {
  skip: clientNodeProblem,
}, async (t) => {
  const ws = tempDir(t);
  const api = await new FakeKubeApi().start();
  t.after(() => api.close());
  const kubeconfig = api.writeKubeconfig(ws);

  const a = await berth([
    '--workspace',
    ws,
    '--json',
    'compute',
    'attach',
    'prod',
    '--kubeconfig',
    kubeconfig,
    '--image-registry',
    'reg.example/ml',
  ]);
  assert.equal(a.code, 0, a.stderr);
  const attached = a.json<{ name: string; context: string; namespace: string; server: string }>();
  assert.equal(attached.context, 'test');
  assert.equal(attached.namespace, 'ml');
  assert.equal(attached.server, api.url);
  assert.ok(api.calls().includes('GET /api/v1/namespaces/ml'));

  const b = await berth([
    '--workspace',
    ws,
    'compute',
    'attach',
    'dev',
    '--kubeconfig',
    kubeconfig,
    '--context',
    'other',
    '--namespace',
    'default',
  ]);
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stdout, /Attached dev .*context other, namespace default/);

  const list = await berth(['--workspace', ws, 'compute', 'list']);
  assert.equal(list.code, 0);
  assert.match(list.stdout, /^NAME\s+TYPE\s+CONTEXT\s+NAMESPACE/);
  assert.match(list.stdout, /^dev\s+kubernetes\s+other\s+default/m);
  assert.match(list.stdout, /^prod\s+kubernetes\s+test\s+ml\s+reg\.example\/ml/m);

  const show = await berth(['--workspace', ws, '--json', 'compute', 'show', 'prod']);
  assert.equal(show.json<{ imageRegistry: string }>().imageRegistry, 'reg.example/ml');

  const again = await berth(['--workspace', ws, 'compute', 'attach', 'prod', '--kubeconfig', kubeconfig]);
  assert.equal(again.code, 4);
  assert.match(again.stderr, /Code:\s+COMPUTE_ALREADY_EXISTS/);

  const d = await berth(['--workspace', ws, 'compute', 'detach', 'prod']);
  assert.equal(d.code, 0);
  const stored = JSON.parse(readFileSync(join(ws, 'computes.json'), 'utf8'));
  assert.deepEqual(
    stored.computes.map((c: { name: string }) => c.name),
    ['dev'],
  );

  const gone = await berth(['--workspace', ws, '--json', 'compute', 'show', 'prod']);
  assert.equal(gone.code, 3);
  assert.equal(JSON.parse(gone.stderr).error.code, 'COMPUTE_NOT_FOUND');
});

test('when attach meets a bad kubeconfig, a missing context or namespace, a 403 or no cluster then it fails with the code and stores nothing', {
  skip: clientNodeProblem,
}, async (t) => {
  const ws = tempDir(t);
  const api = await new FakeKubeApi().start();
  t.after(() => api.close());
  const kubeconfig = api.writeKubeconfig(ws);
  const attach = (...extra: string[]) =>
    berth(['--workspace', ws, '--json', 'compute', 'attach', 'c1', ...extra]);
  const code = (r: CliResult) => [r.code, JSON.parse(r.stderr).error.code];

  assert.deepEqual(code(await attach('--kubeconfig', join(ws, 'missing.yaml'))), [2, 'KUBECONFIG_INVALID']);
  assert.deepEqual(code(await attach('--kubeconfig', kubeconfig, '--context', 'nope')), [
    2,
    'KUBECONFIG_INVALID',
  ]);
  assert.deepEqual(code(await attach('--kubeconfig', kubeconfig, '--namespace', 'absent')), [
    3,
    'NAMESPACE_NOT_FOUND',
  ]);
  api.forbidden = 'namespaces "ml" is forbidden: User "tester" cannot get resource "namespaces"';
  assert.deepEqual(code(await attach('--kubeconfig', kubeconfig)), [5, 'CLUSTER_FORBIDDEN']);
  const url = api.url;
  await api.close();
  const down = await attach('--kubeconfig', api.writeKubeconfig(ws, url));
  assert.deepEqual(code(down), [8, 'CLUSTER_UNREACHABLE']);
  assert.match(JSON.parse(down.stderr).error.message, /Cannot reach the Kubernetes API server/);
  assert.throws(() => readFileSync(join(ws, 'computes.json')), 'nothing stored after failures');
  const offline = await attach('--kubeconfig', kubeconfig, '--no-check', '--namespace', 'x');
  assert.equal(offline.code, 0, offline.stderr);
  assert.equal(offline.json<{ checked: boolean }>().checked, false);
});
