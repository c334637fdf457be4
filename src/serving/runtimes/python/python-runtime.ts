import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { BerthError } from '../../../core/errors.js';
import type { Runtime, RuntimeFactoryOptions, ScoreRequest } from '../../runtime.js';
import type { ServedModel } from '../../serve-spec.js';
import {
  defaultPythonEnvCacheDir,
  type PythonEnvironment,
  preparePythonEnvironment,
} from './python-environment.js';
import { FRAME_BYTES, FRAME_TEXT } from './python-frame.js';
import { PYTHON_SUPPORT_DIR } from './python-support-dir.js';
import { PythonWorker } from './python-worker.js';
import { PythonWorkerPool } from './python-worker-pool.js';

/** Options of the python runtime: the common factory options plus what only it uses. */
export interface PythonRuntimeOptions extends RuntimeFactoryOptions {
  /**
   * Interpreter when the inference config names none. When absent, `createPythonRuntime` reads
   * BERTH_PYTHON (it is the python runtime's edge), else uses `python3` from PATH.
   */
  pythonInterpreter?: string;
  /**
   * Root of cached virtual environments. Default: `environmentDir` when the replica was given
   * one (DEPLOY: `<workspace>/environments/python`), else `~/.cache/berth/python-envs`.
   */
  pythonEnvCacheDir?: string;
  /** Environment of the worker processes (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

const WORKER_SCRIPT = join(PYTHON_SUPPORT_DIR, 'berth_worker.py');
/** Numeric libraries get one thread per worker unless told otherwise: workers × threads ≤ cores. */
const THREAD_VARIABLES = ['OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'];

/**
 * The python runtime: serves a seed-system `score.py` (init() / run(raw)) unchanged, in a pool of
 * `workersPerReplica` Python processes per replica (default 1), each running one request at a time.
 *
 * @example
 * const runtime = createPythonRuntime({ config, models, log, limits, pythonInterpreter: '/usr/bin/python3' });
 * await runtime.load(); // INIT_FAILED, ENTRY_SCRIPT_NOT_FOUND, ENTRY_SCRIPT_INVALID, PYTHON_PACKAGES_MISSING, …
 * const prediction = await runtime.score({ body, raw, contentType: 'application/json' });
 */
export function createPythonRuntime(opts: PythonRuntimeOptions): Runtime {
  const env = opts.env ?? process.env;
  const interpreter =
    opts.config.pythonInterpreter ?? opts.pythonInterpreter ?? env.BERTH_PYTHON ?? 'python3';
  return new PythonRuntime(opts, interpreter, env);
}

class PythonRuntime implements Runtime {
  readonly name = 'python' as const;
  private pool: PythonWorkerPool | undefined;
  private schemas: { input?: object; output?: object } | undefined;
  private modelLinksDir: string | undefined;
  private environment: PythonEnvironment | undefined;

  constructor(
    private readonly opts: PythonRuntimeOptions,
    private readonly interpreter: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  async load(): Promise<void> {
    const { config, log, limits } = this.opts;
    const entryScript = config.entryScript;
    if (!entryScript || !existsSync(entryScript)) {
      throw new BerthError(
        'ENTRY_SCRIPT_NOT_FOUND',
        `The entry script "${entryScript ?? '(none)'}" does not exist.`,
        {
          hint: 'Check "entryScript" and "sourceDirectory" in the inference config.',
        },
      );
    }
    this.environment = await preparePythonEnvironment({
      interpreter: this.interpreter,
      condaFile: config.condaFile,
      cacheDir: this.opts.pythonEnvCacheDir ?? this.opts.environmentDir ?? defaultPythonEnvCacheDir(),
      log,
      env: this.env,
    });
    const childEnv = this.workerEnvironment(entryScript);
    const size = config.workersPerReplica ?? 1;
    const pythonLog = log.child({ runtime: 'python' });
    const pool = new PythonWorkerPool({
      size,
      log: pythonLog,
      scoringTimeoutMs: limits.scoringTimeoutMs,
      initTimeoutMs: limits.initTimeoutMs,
      spawn: (id) =>
        new PythonWorker({
          id,
          interpreter: this.environment!.interpreter,
          workerScript: WORKER_SCRIPT,
          entryScript,
          sourceDirectory: config.sourceDirectory,
          cwd: config.sourceDirectory ?? dirname(entryScript),
          env: childEnv,
          log: pythonLog,
        }),
    });
    try {
      const ready = await pool.start();
      this.schemas = Object.keys(ready.schema).length > 0 ? ready.schema : undefined;
      this.pool = pool;
      pythonLog.info(
        { workers: size, python: ready.python, interpreter: this.environment.interpreter },
        `Python runtime ready: ${size} worker(s)`,
      );
    } catch (err) {
      this.removeModelLinks();
      throw err;
    }
  }

  async score(request: ScoreRequest): Promise<unknown> {
    if (!this.pool) throw new BerthError('NOT_READY', 'The Python runtime has not finished loading.');
    const bytes = request.contentType.toLowerCase().startsWith('application/octet-stream');
    const result = await this.pool.run(bytes ? FRAME_BYTES : FRAME_TEXT, request.raw);
    return JSON.parse(result.toString('utf8'));
  }

  /** The inference config's `schema` (samples or JSON Schemas) where given, else the script's inference_schema decorators'. */
  schema(): { input?: object; output?: object } | undefined {
    const configured = this.opts.config.schema as { input?: object; output?: object } | undefined;
    const input = configured?.input ?? this.schemas?.input;
    const output = configured?.output ?? this.schemas?.output;
    if (input === undefined && output === undefined) return undefined;
    return { ...(input === undefined ? {} : { input }), ...(output === undefined ? {} : { output }) };
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.close();
    this.removeModelLinks();
  }

  private workerEnvironment(entryScript: string): NodeJS.ProcessEnv {
    const models = this.opts.models;
    const env: NodeJS.ProcessEnv = {
      ...this.env,
      PYTHONPATH: [PYTHON_SUPPORT_DIR.replace(/\/$/, ''), this.env.PYTHONPATH]
        .filter(Boolean)
        .join(delimiter),
      PYTHONUNBUFFERED: '1',
      BERTH_MODELS: JSON.stringify(models.map((m) => ({ name: m.name, version: m.version, path: m.path }))),
      AZUREML_ENTRY_SCRIPT: entryScript,
    };
    const modelDir = this.modelDirFor(models);
    if (modelDir) env.AZUREML_MODEL_DIR = modelDir;
    for (const name of THREAD_VARIABLES) if (env[name] === undefined) env[name] = '1';
    // no __pycache__ written into the service's source folder or Berth's install
    if (env.PYTHONDONTWRITEBYTECODE === undefined) env.PYTHONDONTWRITEBYTECODE = '1';
    return env;
  }

  /**
   * AZUREML_MODEL_DIR as the seed system sets it: the model's folder when one model is served,
   * else a folder of `<name>/<version>` links to each.
   */
  private modelDirFor(models: ServedModel[]): string | undefined {
    if (models.length === 0) return undefined;
    if (models.length === 1) return models[0].path;
    const dir = mkdtempSync(join(tmpdir(), 'berth-models-'));
    for (const m of models) {
      mkdirSync(join(dir, m.name), { recursive: true });
      symlinkSync(m.path, join(dir, m.name, String(m.version)));
    }
    this.modelLinksDir = dir;
    return dir;
  }

  private removeModelLinks(): void {
    if (this.modelLinksDir) rmSync(this.modelLinksDir, { recursive: true, force: true });
    this.modelLinksDir = undefined;
  }
}
