import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServeState } from '../../src/serving/serve-spec.js';
import { BERTH_BIN } from '../helpers/run-cli.js';

export const ENTRY_SCRIPTS = fileURLToPath(new URL('../fixtures/entry-scripts/', import.meta.url));
export const SERVING_MAIN = fileURLToPath(new URL('../../dist/serving/main.js', import.meta.url));

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  port: number;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends a signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Wait for "Listening on" (default true); false resolves at once with url '' . */
  waitListening?: boolean;
  timeoutMs?: number;
  /** Run `node dist/serving/main.js` instead of `berth serve`. */
  direct?: boolean;
}

/** Starts `berth serve ARGS` as a real child process and waits for its `Listening on URL` line. */
export function startServe(
  t: { after(fn: () => void | Promise<void>): void },
  args: string[],
  options: StartOptions = {},
): Promise<ServeProcess> {
  const argv = options.direct ? [SERVING_MAIN, ...args] : [BERTH_BIN, 'serve', ...args];
  const child = spawn(process.execPath, argv, {
    cwd: options.cwd,
    env: {
      ...process.env,
      BERTH_WORKSPACE: undefined,
      BERTH_KEYS: undefined,
      BERTH_KEYS_FILE: undefined,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  const proc: Omit<ServeProcess, 'url' | 'port'> = {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    stop: async (signal = 'SIGTERM') => {
      child.kill(signal);
      return exited;
    },
  };
  if (options.waitListening === false) return Promise.resolve({ ...proc, url: '', port: 0 });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new Error(
          `no "Listening on" line within ${options.timeoutMs ?? 30_000} ms\nstdout:\n${out}\nstderr:\n${err}`,
        ),
      );
    }, options.timeoutMs ?? 30_000);
    const onData = () => {
      const m = /^Listening on (https?:\/\/[^\s]+)$/m.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      const url = m[1];
      resolve({ ...proc, url, port: Number(new URL(url).port) });
    };
    child.stdout!.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(
        new Error(
          `berth serve exited (${code ?? signal}) before listening\nstdout:\n${out}\nstderr:\n${err}`,
        ),
      );
    });
  });
}

/** Polls `fn` until it returns a truthy value (or throws after `timeoutMs`). */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  what: string,
  timeoutMs = 20_000,
): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function readState(path: string): ServeState | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ServeState;
  } catch {
    return undefined;
  }
}

/** POSTs JSON to `url` and returns the status and parsed body. */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json as Record<string, unknown>, headers: res.headers };
}

/** POSTs JSON over a new connection (no keep-alive), so that each call may reach another worker. */
export function postFresh(
  url: string,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** A model folder (one dummy file) and an inference config for `script` in `dir`. */
export function nodeService(dir: string, script: string, modelName = 'm'): { modelDir: string; ic: string } {
  const modelDir = join(dir, modelName);
  mkdirSync(modelDir, { recursive: true });
  writeFileSync(join(modelDir, 'weights.txt'), 'w');
  const ic = join(dir, `ic-${script.replace(/\W/g, '_')}.json`);
  writeFileSync(ic, JSON.stringify({ runtime: 'node', entryScript: join(ENTRY_SCRIPTS, script) }));
  return { modelDir, ic };
}

/**
 * Runs `concurrency` loops POSTing `body` until `stop()`; counts answers by outcome.
 * Failures are kept with their reason so a test can show them.
 */
export function loadLoop(url: string, body: unknown, concurrency: number) {
  let running = true;
  /** `at`: when the request was sent */
  const results: {
    at: number;
    ok: boolean;
    status?: number;
    reason?: string;
    body?: Record<string, unknown>;
  }[] = [];
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      const at = Date.now();
      try {
        const r = await postJson(url, body);
        results.push({ at, ok: r.status === 200, status: r.status, body: r.body });
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        results.push({ at, ok: false, reason: cause?.code ?? cause?.message ?? String(err) });
      }
    }
  });
  return {
    results,
    async stop() {
      running = false;
      await Promise.all(loops);
      return results;
    },
  };
}
