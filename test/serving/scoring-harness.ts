import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { InferenceConfig } from '../../src/core/config/inference-config.js';
import type { Logger } from '../../src/core/logger.js';
import type { Runtime } from '../../src/serving/runtime.js';
import { createRuntime } from '../../src/serving/runtimes/create-runtime.js';
import {
  createScoringServer,
  type ScoringServer,
  type ScoringServerHooks,
} from '../../src/serving/scoring-server.js';
import { SERVE_DEFAULTS } from '../../src/serving/serve-defaults.js';
import type { ServedModel, ServeSpec, ServingLimits } from '../../src/serving/serve-spec.js';

export const ENTRY_SCRIPTS = fileURLToPath(new URL('../fixtures/entry-scripts/', import.meta.url));

export interface Harness {
  url: string;
  scoring: ScoringServer;
  runtime: Runtime;
  spec: ServeSpec;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  config: InferenceConfig;
  models?: ServedModel[];
  limits?: Partial<ServingLimits>;
  keys?: string[];
  dataCollectionDir?: string;
  environmentDir?: string;
  debug?: boolean;
  log?: Logger;
  hooks?: ScoringServerHooks;
  /** Leave the server not ready (default: ready once listening). */
  notReady?: boolean;
  name?: string;
}

/** A silent logger (tests that look at log lines pass their own). */
export function quietLogger(): Logger {
  return pino({ level: 'silent' });
}

/** Loads a runtime and serves it on 127.0.0.1:0, in this process; `t.after(h.close)`. */
export async function startScoring(options: HarnessOptions): Promise<Harness> {
  const log = options.log ?? quietLogger();
  const limits: ServingLimits = { ...SERVE_DEFAULTS, ...options.limits };
  const models = options.models ?? [];
  const spec: ServeSpec = {
    name: options.name ?? 'test-service',
    models,
    inferenceConfig: options.config,
    host: '127.0.0.1',
    port: 0,
    replicas: 1,
    limits,
    keys: options.keys,
    dataCollectionDir: options.dataCollectionDir,
    environmentDir: options.environmentDir,
    debug: options.debug,
  };
  const runtime = await createRuntime({
    config: options.config,
    models,
    log,
    limits: { scoringTimeoutMs: limits.scoringTimeoutMs, initTimeoutMs: limits.initTimeoutMs },
    environmentDir: options.environmentDir,
  });
  await runtime.load();
  const scoring = createScoringServer({ spec, runtime, log, hooks: options.hooks });
  await new Promise<void>((resolve) => scoring.server.listen(0, '127.0.0.1', resolve));
  if (!options.notReady) scoring.setReady(true);
  const port = (scoring.server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    scoring,
    runtime,
    spec,
    post: (path, body, headers = {}) =>
      fetch(url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
      }),
    close: async () => {
      await scoring.drain(2_000);
      scoring.server.closeAllConnections();
      await runtime.close();
    },
  };
}

/** Reads a Berth error body and returns `{status, code, message}`. */
export async function errorOf(res: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await res.json()) as { error: { code: string; message: string } };
  return { status: res.status, code: body.error.code, message: body.error.message };
}

export function nodeConfig(entryScript: string, extra: Partial<InferenceConfig> = {}): InferenceConfig {
  return {
    runtime: 'node',
    entryScript: entryScript.startsWith('/') ? entryScript : ENTRY_SCRIPTS + entryScript,
    ...extra,
  };
}
