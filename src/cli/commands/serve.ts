import { readFileSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import { type DeploymentConfig, loadDeploymentConfig } from '../../core/config/deployment-config.js';
import { loadInferenceConfig, parseInferenceConfig } from '../../core/config/inference-config.js';
import { BerthError } from '../../core/errors.js';
import { assertValidName } from '../../core/model-ref.js';
import type { ServedModel, ServeSpec, ServingLimits } from '../../serving/serve-spec.js';
import { readKeysFile } from '../keys-file.js';
import type { GlobalOptions } from '../output.js';

/** Flags of `berth serve` as commander hands them over. */
interface ServeFlags {
  modelDir: string[];
  name: string[];
  model: string[];
  ic?: string;
  dc?: string;
  port?: number;
  host?: string;
  replicas?: number;
  key: string[];
  keysFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  logFile?: string;
  scoringTimeoutMs?: number;
  maxConcurrent?: number;
  maxQueueWaitMs?: number;
  maxBodyBytes?: number;
  initTimeoutMs?: number;
  spec?: string;
  stateFile?: string;
  debug?: boolean;
}

type Env = NodeJS.ProcessEnv;

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

function integer(flag: string, min: number, max = Number.MAX_SAFE_INTEGER): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!/^[0-9]+$/.test(text.trim()) || n < min || n > max) {
      throw new BerthError(
        'INVALID_ARGUMENT',
        `${flag} must be an integer from ${min} to ${max}, not "${text}".`,
      );
    }
    return n;
  };
}

/** Environment variables `berth serve` reads (below the flags, above the files). */
const ENV = {
  port: 'BERTH_SERVE_PORT',
  host: 'BERTH_SERVE_HOST',
  replicas: 'BERTH_SERVE_REPLICAS',
  keys: 'BERTH_KEYS',
  keysFile: 'BERTH_KEYS_FILE',
  tlsCert: 'BERTH_TLS_CERT',
  tlsKey: 'BERTH_TLS_KEY',
  logFile: 'BERTH_LOG_FILE',
  scoringTimeoutMs: 'BERTH_SCORING_TIMEOUT_MS',
  maxConcurrent: 'BERTH_MAX_CONCURRENT',
  maxQueueWaitMs: 'BERTH_MAX_QUEUE_WAIT_MS',
  maxBodyBytes: 'BERTH_MAX_BODY_BYTES',
  initTimeoutMs: 'BERTH_INIT_TIMEOUT_MS',
} as const;

function envInt(env: Env, name: string, min: number, max?: number): number | undefined {
  const text = env[name];
  return text === undefined || text === '' ? undefined : integer(name, min, max)(text);
}

function envText(env: Env, name: string): string | undefined {
  const text = env[name];
  return text === undefined || text === '' ? undefined : text;
}

function modelFromDir(dir: string, name: string | undefined): ServedModel {
  const path = resolve(dir);
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new BerthError('PATH_NOT_FOUND', `Model folder "${dir}" does not exist.`, {
      hint: 'Pass the folder holding the model files with --model-dir.',
    });
  }
  if (!isDir) {
    throw new BerthError('INVALID_ARGUMENT', `--model-dir "${dir}" is a file, not a folder.`, {
      hint: 'Put the model file in a folder and pass the folder (its name becomes the model name unless --name).',
    });
  }
  const modelName = name ?? basename(path);
  assertValidName(modelName, 'model name');
  return { name: modelName, version: 1, path };
}

/** Resolves `--model REF`s through the registry of the workspace (materialized folders). */
async function modelsFromRegistry(refs: string[], globals: GlobalOptions, env: Env): Promise<ServedModel[]> {
  if (refs.length === 0) return [];
  if (globals.url || env.BERTH_URL) {
    throw new BerthError(
      'NOT_SUPPORTED',
      '`berth serve --model` reads a local workspace; it cannot serve from --url.',
      {
        hint: 'Download the model (berth model download) and use --model-dir, or deploy it on the server.',
      },
    );
  }
  const { openWorkspaceStores } = await import('../../store/open-store.js');
  const { ModelRegistry } = await import('../../registry/model-registry.js');
  const stores = openWorkspaceStores(globals.workspace || env.BERTH_WORKSPACE || '.berth');
  try {
    const registry = new ModelRegistry(stores);
    const models: ServedModel[] = [];
    for (const ref of refs) {
      const version = registry.get(ref);
      models.push({ name: version.name, version: version.version, path: await registry.materialize(ref) });
    }
    return models;
  } finally {
    stores.close();
  }
}

/** Keys by precedence: --key, --keys-file, BERTH_KEYS, BERTH_KEYS_FILE, then the deployment config's. */
function keysFrom(flags: ServeFlags, env: Env, dc: DeploymentConfig | undefined): string[] | undefined {
  if (flags.key.length > 0) return flags.key;
  if (flags.keysFile !== undefined) return readKeysFile(resolve(flags.keysFile));
  const fromEnv = envText(env, ENV.keys);
  if (fromEnv !== undefined) {
    return fromEnv
      .split(',')
      .map((k) => k.trim())
      .filter((k) => k.length > 0);
  }
  const fileFromEnv = envText(env, ENV.keysFile);
  if (fileFromEnv !== undefined) return readKeysFile(resolve(fileFromEnv));
  if (!dc?.authEnabled) return undefined;
  const keys = [dc.keys?.primaryKey, dc.keys?.secondaryKey].filter((k): k is string => typeof k === 'string');
  if (keys.length === 0) {
    throw new BerthError('INVALID_ARGUMENT', 'The deployment config enables auth but gives no keys.', {
      hint: 'Add "keys": {"primaryKey": "..."} to it, or pass --key KEY (or BERTH_KEYS).',
    });
  }
  return keys;
}

function autoscaleFrom(dc: DeploymentConfig | undefined): ServeSpec['autoscale'] {
  const a = dc?.autoScaler;
  if (!a?.autoscaleEnabled) return undefined;
  return {
    minReplicas: a.minReplicas ?? 1,
    maxReplicas: a.maxReplicas ?? Math.max(a.minReplicas ?? 1, 10),
    targetUtilization: a.targetUtilization ?? 70,
    refreshPeriodInSeconds: a.refreshPeriodInSeconds ?? 1,
  };
}

/**
 * Builds the ServeSpec of `berth serve` from its flags, then BERTH_* variables, then the
 * `--ic`/`--dc` files, then defaults (the only place these are read).
 * @throws PATH_NOT_FOUND, INVALID_CONFIG, INVALID_ARGUMENT, INVALID_NAME, MODEL_NOT_FOUND
 */
export async function buildServeSpec(
  flags: ServeFlags,
  globals: GlobalOptions,
  env: Env,
): Promise<ServeSpec> {
  const { SERVE_DEFAULTS, DEFAULT_SERVE_PORT } = await import('../../serving/serve-defaults.js');
  if (flags.name.length > flags.modelDir.length) {
    throw new BerthError('INVALID_ARGUMENT', 'There are more --name flags than --model-dir flags.', {
      hint: 'Each --name names the --model-dir at the same position.',
    });
  }
  const models = [
    ...flags.modelDir.map((dir, i) => modelFromDir(dir, flags.name[i])),
    ...(await modelsFromRegistry(flags.model, globals, env)),
  ];
  if (models.length === 0) {
    throw new BerthError('INVALID_ARGUMENT', 'No model to serve.', {
      hint: 'Pass --model-dir DIR (a folder with the model files) or --model NAME[:VERSION] from the workspace.',
    });
  }
  const inferenceConfig = flags.ic
    ? loadInferenceConfig(flags.ic)
    : parseInferenceConfig({ runtime: DEFAULT_RUNTIME }, process.cwd());
  const dc = flags.dc ? loadDeploymentConfig(flags.dc) : undefined;
  const limit = (
    flag: number | undefined,
    envName: string,
    file: number | undefined,
    fallback: number,
    min = 1,
  ) => flag ?? envInt(env, envName, min) ?? file ?? fallback;
  const limits: ServingLimits = {
    scoringTimeoutMs: limit(
      flags.scoringTimeoutMs,
      ENV.scoringTimeoutMs,
      dc?.scoringTimeoutMs,
      SERVE_DEFAULTS.scoringTimeoutMs,
    ),
    initTimeoutMs: limit(flags.initTimeoutMs, ENV.initTimeoutMs, undefined, SERVE_DEFAULTS.initTimeoutMs),
    maxConcurrentRequestsPerContainer: limit(
      flags.maxConcurrent,
      ENV.maxConcurrent,
      dc?.maxConcurrentRequestsPerContainer,
      SERVE_DEFAULTS.maxConcurrentRequestsPerContainer,
    ),
    maxQueueWaitMs: limit(
      flags.maxQueueWaitMs,
      ENV.maxQueueWaitMs,
      dc?.maxQueueWaitMs,
      SERVE_DEFAULTS.maxQueueWaitMs,
      0,
    ),
    maxBodyBytes: limit(flags.maxBodyBytes, ENV.maxBodyBytes, undefined, SERVE_DEFAULTS.maxBodyBytes),
  };
  const tlsCert = flags.tlsCert ?? envText(env, ENV.tlsCert);
  const tlsKey = flags.tlsKey ?? envText(env, ENV.tlsKey);
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    throw new BerthError('INVALID_ARGUMENT', 'HTTPS needs both --tls-cert and --tls-key.', {
      hint: 'Pass the PEM certificate with --tls-cert FILE and its private key with --tls-key FILE.',
    });
  }
  const keys = keysFrom(flags, env, dc);
  const logFile = flags.logFile ?? envText(env, ENV.logFile);
  const spec: ServeSpec = {
    name: models[0].name,
    models,
    inferenceConfig,
    host: flags.host ?? envText(env, ENV.host) ?? '127.0.0.1',
    port: flags.port ?? envInt(env, ENV.port, 0, 65535) ?? dc?.port ?? DEFAULT_SERVE_PORT,
    replicas: flags.replicas ?? envInt(env, ENV.replicas, 1, 64) ?? dc?.numReplicas ?? 1,
    limits,
    ...(flags.replicas === undefined && autoscaleFrom(dc) ? { autoscale: autoscaleFrom(dc) } : {}),
    ...(keys && keys.length > 0 ? { keys } : {}),
    ...(tlsCert && tlsKey ? { tls: { certFile: resolve(tlsCert), keyFile: resolve(tlsKey) } } : {}),
    ...(logFile ? { logFile: resolve(logFile) } : {}),
    ...(flags.debug ? { debug: true } : {}),
  };
  return Object.freeze(spec);
}

/** Registers `berth serve`: a scoring service in the foreground (docs/serve.md). */
export function register(program: Command): void {
  program
    .command('serve')
    .description('Serve a model as an HTTP scoring service in the foreground, until SIGTERM or Ctrl-C.')
    .option(
      '--model-dir <dir>',
      'folder with the model files; repeatable (model named after the folder)',
      collect,
    )
    .option('--name <name>', 'name of the --model-dir model at the same position; repeatable', collect)
    .option('--model <ref>', 'registered model NAME, NAME:VERSION or NAME@ALIAS; repeatable', collect)
    .option('--ic <file>', 'inferenceconfig.json (default: {"runtime": "onnx"})')
    .option('--dc <file>', 'deploymentconfig.json: replicas, limits, keys, port, autoscaler')
    .option('--port <n>', 'port (default 5001; 0 = any free port)', integer('--port', 0, 65535))
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .option('--replicas <n>', 'worker processes sharing the port (default 1)', integer('--replicas', 1, 64))
    .option('--key <key>', 'accepted Bearer key (turns auth on); repeatable; or BERTH_KEYS=k1,k2', collect)
    .option(
      '--keys-file <file>',
      'file of accepted keys: one per line, or the JSON of `berth service keys NAME --json`; or BERTH_KEYS_FILE',
    )
    .option('--tls-cert <file>', 'PEM certificate: serve HTTPS')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option('--log-file <file>', 'also append the JSON log lines to this file')
    .option(
      '--scoring-timeout-ms <n>',
      'limit of one scoring request (default 60000) → 504',
      integer('--scoring-timeout-ms', 1),
    )
    .option(
      '--init-timeout-ms <n>',
      'limit of init()/model load (default 300000)',
      integer('--init-timeout-ms', 1),
    )
    .option(
      '--max-concurrent <n>',
      'requests running at once per replica (default 1000)',
      integer('--max-concurrent', 1),
    )
    .option(
      '--max-queue-wait-ms <n>',
      'queue wait before 503 (default 500)',
      integer('--max-queue-wait-ms', 0),
    )
    .option(
      '--max-body-bytes <n>',
      'largest request body (default 100 MiB) → 413',
      integer('--max-body-bytes', 1),
    )
    .option('--debug', 'include error stacks in 500 answers')
    .option('--spec <file>', 'a serve spec JSON (written by `berth model deploy`); overrides the flags above')
    .option(
      '--state-file <file>',
      'write the server state (port, ready, replicas, restarts, error) here as JSON',
    )
    .action(async (given: Partial<ServeFlags>, cmd: Command) => {
      const flags: ServeFlags = {
        ...given,
        modelDir: given.modelDir ?? [],
        name: given.name ?? [],
        model: given.model ?? [],
        key: given.key ?? [],
      };
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const env = process.env;
      const launch = await import('../../serving/worker-launch.js');
      // The first worker boots while this process validates the config and binds the port.
      const runtime = peekRuntime(flags);
      if (runtime !== undefined)
        launch.preforkWorker(
          launch.defaultWorkerEntry(),
          launch.workerExecArgv(process.execArgv, env.NODE_OPTIONS, runtime),
        );
      const { readServeSpecFile } = await import('../../serving/serve-spec-file.js');
      const build = flags.spec
        ? async () => readServeSpecFile(flags.spec as string)
        : () => buildServeSpec(flags, globals, env);
      try {
        const spec = await build();
        const { runServe } = await import('../../serving/main.js');
        await runServe({
          spec,
          reloadSpec: build,
          stateFile: flags.stateFile ? resolve(flags.stateFile) : undefined,
        });
      } finally {
        launch.discardPreforkedWorker();
      }
      process.exit(0);
    });
}

/** The runtime of `berth serve --model-dir DIR` without `--ic`: the model alone, no code. */
const DEFAULT_RUNTIME = 'onnx';

/**
 * The runtime the config names, read without validating it (that comes later, with its errors), so
 * that the first worker can be forked with the right node flags; undefined when it cannot be read.
 */
function peekRuntime(flags: ServeFlags): string | undefined {
  try {
    if (flags.spec) {
      const spec = JSON.parse(readFileSync(flags.spec, 'utf8')) as {
        inferenceConfig?: { runtime?: unknown };
      };
      const runtime = spec.inferenceConfig?.runtime;
      return typeof runtime === 'string' ? runtime : undefined;
    }
    if (!flags.ic) return DEFAULT_RUNTIME;
    const runtime = (JSON.parse(readFileSync(flags.ic, 'utf8')) as { runtime?: unknown }).runtime;
    return typeof runtime === 'string' ? runtime : undefined;
  } catch {
    return undefined;
  }
}
