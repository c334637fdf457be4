import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../../core/errors.js';

/** A folder holding `node_modules` for one dependency set, shared by every service that needs the same set. */
export interface NodeEnvironment {
  /** `<workspace>/environments/<hash>/`; its `node_modules` goes on the entry script's resolution path. */
  dir: string;
  hash: string;
  /** True when the environment was built before and reused as it was. */
  reused: boolean;
}

export interface BuildNodeEnvironmentOptions {
  workspaceDir: string;
  /** package.json-style `{name: versionRange}`. */
  dependencies: Record<string, string>;
  /** npm executable (default `npm`). */
  npmCommand?: string;
  /** Longest an install may take (default 10 min). */
  timeoutMs?: number;
}

const READY_MARKER = 'berth-environment.json';
const building = new Map<string, Promise<NodeEnvironment>>();

/** The cache key of a dependency set: sha256 of its sorted entries and the Node major version (native addons). */
export function hashDependencies(dependencies: Record<string, string>): string {
  const entries = Object.entries(dependencies).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const node = process.versions.node.split('.')[0];
  return createHash('sha256')
    .update(JSON.stringify({ node, dependencies: entries }))
    .digest('hex')
    .slice(0, 32);
}

/**
 * Installs `dependencies` with npm into `<workspace>/environments/<hash>/` once and reuses it afterwards.
 * A folder counts as built only once its marker file is written, so a crash mid-install is retried.
 * Assumes one builder per workspace (the control plane); concurrent calls in this process share one install.
 * @throws ENVIRONMENT_BUILD_FAILED with npm's output in `details.output`.
 */
export function buildNodeEnvironment(options: BuildNodeEnvironmentOptions): Promise<NodeEnvironment> {
  const hash = hashDependencies(options.dependencies);
  const dir = join(options.workspaceDir, 'environments', hash);
  if (existsSync(join(dir, READY_MARKER))) return Promise.resolve({ dir, hash, reused: true });
  const inFlight = building.get(dir);
  if (inFlight) return inFlight;
  const promise = install(dir, hash, options).finally(() => building.delete(dir));
  building.set(dir, promise);
  return promise;
}

async function install(
  dir: string,
  hash: string,
  options: BuildNodeEnvironmentOptions,
): Promise<NodeEnvironment> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const pkg = {
    name: `berth-environment-${hash}`,
    version: '1.0.0',
    private: true,
    dependencies: options.dependencies,
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  const args = ['install', '--no-audit', '--no-fund', '--omit=dev', '--loglevel=error', '--prefer-offline'];
  const { code, output } = await runNpm(options.npmCommand ?? 'npm', args, dir, options.timeoutMs ?? 600_000);
  if (code !== 0) {
    rmSync(dir, { recursive: true, force: true });
    const names = Object.keys(options.dependencies).join(', ');
    throw new BerthError(
      'ENVIRONMENT_BUILD_FAILED',
      `npm install of the dependencies (${names}) failed with ${code === null ? 'a timeout' : `exit code ${code}`}.`,
      {
        hint: 'Fix "dependencies" in inferenceconfig.json (names, versions, reachable registry); npm output is in the service logs.',
        details: { output: output.slice(-20_000) },
      },
    );
  }
  writeFileSync(join(dir, READY_MARKER), `${JSON.stringify({ hash, builtAt: new Date().toISOString() })}\n`);
  return { dir, hash, reused: false };
}

function runNpm(
  command: string,
  args: string[],
  cwd: string,
  timeoutMs: number,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    let output = '';
    const child = spawn(command, args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: process.platform === 'win32',
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: -1, output: `${output}\n${err.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: signal ? null : code, output });
    });
  });
}
