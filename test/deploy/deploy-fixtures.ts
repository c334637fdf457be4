import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLinearModel, writeModel } from '../fixtures/models/onnx-model-builder.js';
import { type CliResult, runCli } from '../helpers/run-cli.js';

export const ENTRY_SCRIPTS = fileURLToPath(new URL('../fixtures/entry-scripts/', import.meta.url));

/** A local npm package, so environment installs need no registry. */
export function writeFixturePackage(dir: string): string {
  const pkg = join(dir, 'berth-env-fixture-pkg');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(
    join(pkg, 'package.json'),
    JSON.stringify({ name: 'berth-env-fixture-pkg', version: '1.0.0', type: 'module', main: 'index.js' }),
  );
  writeFileSync(join(pkg, 'index.js'), "export function greet(name) { return 'hello ' + name; }\n");
  return pkg;
}

export interface DeployHarness {
  /** The temp folder (configs, models, scripts). */
  dir: string;
  /** The workspace folder. */
  ws: string;
  /** Runs `berth --workspace ws ...`. */
  berth(args: string[], options?: { timeoutMs?: number; cwd?: string }): Promise<CliResult>;
  /** Writes a JSON file into `dir` and returns its path. */
  json(name: string, value: unknown): string;
  /** Registers the tiny linear ONNX model (10 → 1) as `name` and returns the CLI result. */
  registerLinear(name?: string): Promise<CliResult>;
  /** Runs `berth --json ...args` expecting exit 0 and one JSON document (failing with stderr otherwise). */
  jsonOk<T>(args: string[]): Promise<T>;
}

/**
 * A temp workspace for deploy tests. After the test: `berth server stop --all` (control plane and
 * every service), then any replica process still recorded in a state file is killed, then the
 * folder is removed.
 */
export function deployHarness(t: { after(fn: () => unknown): void }): DeployHarness {
  const dir = mkdtempSync(join(tmpdir(), 'berth-deploy-'));
  const ws = join(dir, 'ws');
  const berth = (args: string[], options: { timeoutMs?: number; cwd?: string } = {}) =>
    runCli(['--workspace', ws, ...args], {
      cwd: options.cwd ?? dir,
      timeoutMs: options.timeoutMs ?? 120_000,
    });
  t.after(async () => {
    await berth(['server', 'stop', '--all'], { timeoutMs: 60_000 }).catch(() => undefined);
    killLeftovers(ws);
    rmSync(dir, { recursive: true, force: true });
  });
  const modelFile = writeModel(join(dir, 'models'), 'linear.onnx', buildLinearModel());
  return {
    dir,
    ws,
    berth,
    json: (name, value) => {
      const file = join(dir, name);
      writeFileSync(file, JSON.stringify(value, null, 2));
      return file;
    },
    registerLinear: (name = 'linear') => berth(['model', 'register', '-n', name, '-p', modelFile]),
    jsonOk: async <T>(args: string[]) => {
      const res = await berth(['--json', ...args]);
      if (res.code !== 0)
        throw new Error(`berth ${args.join(' ')} exited ${res.code}: ${res.stderr}${res.stdout}`);
      return res.json<T>();
    },
  };
}

/** Kills the process groups of replica processes the workspace still records (a failed test's leftovers). */
export function killLeftovers(ws: string): void {
  const services = join(ws, 'services');
  if (!existsSync(services)) return;
  for (const name of readdirSync(services)) {
    try {
      const state = JSON.parse(readFileSync(join(services, name, 'state.json'), 'utf8')) as { pid?: number };
      if (state.pid) process.kill(-state.pid, 'SIGKILL');
    } catch {
      // no state file, or the group is gone
    }
  }
}

/** Polls `fn` until it returns a truthy value. */
export async function waitFor<T>(
  fn: () => Promise<T> | T,
  what: string,
  timeoutMs = 60_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`Timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** POSTs JSON; resolves to status and parsed body (never throws for an HTTP error). */
export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: text };
  }
}

/** One linear-model request body (10 features). */
export const LINEAR_BODY = { data: [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]] };

export interface LoadResult {
  ok: number;
  failed: number;
  /** The first few failures (status and body, or the network error). */
  errors: string[];
}

/** Keeps `concurrency` requests in flight against `url` until `stop()`. */
export function startLoad(
  t: { after(fn: () => unknown): void },
  url: string,
  body: unknown,
  options: { concurrency?: number; headers?: Record<string, string> } = {},
): { stop(): Promise<LoadResult> } {
  const result: LoadResult = { ok: 0, failed: 0, errors: [] };
  let running = true;
  // A test that fails before stopping its load must not leave it running.
  t.after(() => {
    running = false;
  });
  const loop = async () => {
    while (running) {
      try {
        const res = await postJson(url, body, options.headers);
        if (res.status === 200) result.ok++;
        else {
          result.failed++;
          if (result.errors.length < 5) result.errors.push(`${res.status} ${JSON.stringify(res.body)}`);
        }
      } catch (err) {
        result.failed++;
        if (result.errors.length < 5) result.errors.push(String((err as Error).cause ?? err));
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  };
  const loops = Array.from({ length: options.concurrency ?? 4 }, loop);
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return result;
    },
  };
}
