import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { toBerthError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { flushLogger } from './flush-logger.js';
import type { ServeSpec } from './serve-spec.js';
import { readServeSpecFile } from './serve-spec-file.js';
import { runSupervisor } from './supervisor.js';

export interface ServeOptions {
  spec: ServeSpec;
  /** Builds the spec again on SIGHUP (default: none, SIGHUP is ignored). */
  reloadSpec?: () => Promise<ServeSpec>;
  /** ServeState JSON written on every change (default: spec.stateFile). */
  stateFile?: string;
}

/**
 * Runs a scoring service in the foreground (what `berth serve` does): the supervisor plus
 * `spec.replicas` worker processes. Prints `Listening on http(s)://HOST:PORT` on stdout once every
 * replica finished init; resolves after SIGTERM/SIGINT drained the workers.
 * @throws PORT_IN_USE, PATH_NOT_FOUND (TLS files), or the init error (INIT_FAILED, ENTRY_SCRIPT_*) when
 *   the replicas could not start; the state file then says `failed: true`.
 */
export async function runServe(options: ServeOptions): Promise<void> {
  const { spec } = options;
  const log = createLogger({
    name: spec.name,
    file: spec.logFile,
    fileOnly: spec.logFileOnly,
    level: spec.debug ? 'debug' : 'info',
  }).child({
    role: 'supervisor',
  });
  try {
    await runSupervisor({
      spec,
      reloadSpec: options.reloadSpec,
      stateFile: options.stateFile,
      log,
      onReady: (url) => process.stdout.write(`Listening on ${url}\n`),
    });
  } finally {
    flushLogger(log);
  }
}

/** `node dist/serving/main.js --spec FILE [--state-file FILE]`: the same server without the CLI. */
async function mainFromArgs(argv: string[]): Promise<void> {
  try {
    const { values } = parseArgs({
      args: argv,
      options: { spec: { type: 'string' }, 'state-file': { type: 'string' } },
    });
    if (!values.spec)
      throw toBerthError(new Error('Usage: main.js --spec FILE [--state-file FILE]'), 'INVALID_ARGUMENT');
    const specFile = values.spec;
    await runServe({
      spec: readServeSpecFile(specFile),
      reloadSpec: async () => readServeSpecFile(specFile),
      stateFile: values['state-file'],
    });
    process.exit(0);
  } catch (thrown) {
    const err = toBerthError(thrown, 'INVALID_ARGUMENT');
    process.stderr.write(
      `Error: ${err.message}\nCode:  ${err.code}\n${err.hint ? `Try:   ${err.hint}\n` : ''}`,
    );
    process.exit(err.exitCode);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  void mainFromArgs(process.argv.slice(2));
}
