import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { type Logger, pino } from 'pino';
import { parseInferenceConfig } from '../../src/core/config/inference-config.js';
import type { Runtime } from '../../src/serving/runtime.js';
import { createPythonRuntime } from '../../src/serving/runtimes/python/python-runtime.js';
import type { ServedModel } from '../../src/serving/serve-spec.js';
import { tempDir } from '../helpers/temp-dir.js';

/** Debian's interpreter: it has python3-numpy/-sklearn/-pandas (the `python3` on PATH may not). */
export const SYSTEM_PYTHON = '/usr/bin/python3';
export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
export const SCRIPTS = join(FIXTURES, 'scripts');
export const SEED_DIR = join(FIXTURES, 'seed-sklearn');

/** Parsed JSON walked by key in assertions (`schema.input.properties.data.type`). */
export interface JsonTree {
  [key: string]: JsonTree;
}

type TestLike = { after(fn: () => void | Promise<void>): void };

/** A pino logger whose JSON lines are kept in memory for assertions. */
export function captureLogger(): { log: Logger; entries(): Record<string, unknown>[]; text(): string } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const log = pino({ level: 'debug' }, sink);
  return {
    log,
    entries: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    text: () => lines.join('\n'),
  };
}

/**
 * Trains the seed example's Ridge model (synthetic data) into `<dir>/model/sklearn_regression_model.pkl`
 * and returns the folder and scikit-learn's own predictions for the seed's two request rows.
 */
export function trainSeedModel(dir: string): { modelDir: string; expected: number[] } {
  const modelDir = join(dir, 'model');
  mkdirSync(modelDir, { recursive: true });
  const out = execFileSync(SYSTEM_PYTHON, [join(SEED_DIR, 'train.py'), modelDir], { encoding: 'utf8' });
  return { modelDir, expected: JSON.parse(out) as number[] };
}

export interface RuntimeUnderTest {
  runtime: Runtime;
  logs: ReturnType<typeof captureLogger>;
}

/** Creates (not loads) a python runtime for `entryScript`; closed after the test. */
export function pythonRuntime(
  t: TestLike,
  options: {
    entryScript: string;
    sourceDirectory?: string;
    condaFile?: string;
    models?: ServedModel[];
    workers?: number;
    scoringTimeoutMs?: number;
    initTimeoutMs?: number;
    interpreter?: string;
    envCacheDir?: string;
    schema?: { input?: unknown; output?: unknown };
  },
): RuntimeUnderTest {
  const logs = captureLogger();
  const sourceDirectory = options.sourceDirectory ?? dirname(options.entryScript);
  const config = parseInferenceConfig(
    {
      runtime: 'python',
      entryScript: options.entryScript,
      sourceDirectory,
      condaFile: options.condaFile,
      workersPerReplica: options.workers,
      pythonInterpreter: options.interpreter ?? SYSTEM_PYTHON,
      schema: options.schema,
    },
    sourceDirectory,
  );
  const runtime = createPythonRuntime({
    config,
    models: options.models ?? [],
    log: logs.log,
    limits: {
      scoringTimeoutMs: options.scoringTimeoutMs ?? 30_000,
      initTimeoutMs: options.initTimeoutMs ?? 60_000,
    },
    pythonEnvCacheDir: options.envCacheDir ?? tempDir(t, 'berth-pyenv-'),
  });
  t.after(() => runtime.close());
  return { runtime, logs };
}

/** Scores a JSON text (or raw bytes as application/octet-stream). */
export function score(runtime: Runtime, body: string | Buffer): Promise<unknown> {
  if (Buffer.isBuffer(body))
    return runtime.score({ body, raw: body, contentType: 'application/octet-stream' });
  return runtime.score({ body: JSON.parse(body), raw: Buffer.from(body), contentType: 'application/json' });
}

/** Runs `fn` and returns what it threw (fails when it did not throw). */
export async function thrown(fn: () => Promise<unknown>): Promise<{
  code?: string;
  status?: number;
  message: string;
  hint?: string;
  details?: Record<string, unknown>;
}> {
  try {
    await fn();
  } catch (err) {
    return err as { code?: string; status?: number; message: string };
  }
  throw new Error('expected an error, none was thrown');
}
