import { type Command, InvalidArgumentError, Option } from 'commander';
import type { DeploymentConfig } from '../../core/config/deployment-config.js';
import type { InferenceConfig } from '../../core/config/inference-config.js';
import type { ServiceView } from '../../deploy/service-view.js';
import type { Webservice } from '../../sdk/webservice.js';
import { withWorkspace } from '../open-workspace.js';
import { formatFields, formatTable, type GlobalOptions, printJson, printResult } from '../output.js';

export interface ConfigFileOptions {
  ic?: string;
  dc?: string;
}

/** Options taking a file, with the seed's single-dash spellings (`-ic`, `-dc`) accepted too. */
export function configFileOptions(): Option[] {
  // commander knows only one-letter short flags; a longer `short` still matches the whole argument.
  const ic = new Option('--ic <file>', 'inferenceconfig.json (runtime, entry script, dependencies, schema)');
  ic.short = '-ic';
  const dc = new Option('--dc <file>', 'deploymentconfig.json (computeType, port, replicas, auth, ...)');
  dc.short = '-dc';
  return [ic, dc];
}

/** Loads and validates the config files on this machine (bad files fail here, exit 2, before any call). */
export async function loadConfigFiles(
  opts: ConfigFileOptions,
): Promise<{ inferenceConfig?: InferenceConfig; deploymentConfig?: DeploymentConfig }> {
  const { loadInferenceConfig } = await import('../../core/config/inference-config.js');
  const { loadDeploymentConfig } = await import('../../core/config/deployment-config.js');
  return {
    inferenceConfig: opts.ic ? loadInferenceConfig(opts.ic) : undefined,
    deploymentConfig: opts.dc ? loadDeploymentConfig(opts.dc) : undefined,
  };
}

export async function checkModelRefs(refs: string[]): Promise<void> {
  const { parseModelRef } = await import('../../core/model-ref.js');
  for (const ref of refs) parseModelRef(ref);
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** The lines a deploy or update ends with. */
export function serviceSummary(view: ServiceView): string {
  const fields: Record<string, unknown> = {
    State: view.state,
    'Scoring URI': view.scoringUri,
    'Swagger URI': view.swaggerUri,
  };
  if (view.error) fields.Error = view.error;
  return formatFields(fields);
}

/**
 * Waits for a deploy or update with progress lines on stdout (none under --json: stdout is then the
 * service's JSON, stderr an error's JSON), then prints the service. Failures throw (exit 9).
 */
export async function waitWithProgress(
  opts: GlobalOptions,
  run: (output: (line: string) => void) => Promise<Webservice>,
): Promise<void> {
  const output = (line: string) => {
    if (!opts.json) process.stdout.write(`${line}\n`);
  };
  const service = await run(output);
  const view = service.toJSON();
  printResult(opts, view, () => serviceSummary(view));
}

function replicasText(view: ServiceView): string {
  return `${view.replicas.ready}/${view.replicas.desired}`;
}

function showFields(view: ServiceView): Record<string, unknown> {
  return {
    Name: view.name,
    State: view.state,
    'Scoring URI': view.scoringUri,
    'Swagger URI': view.swaggerUri,
    Models: view.models.join(', '),
    Runtime: view.runtime,
    'Compute type': view.computeType,
    Replicas: replicasText(view),
    'Auth enabled': String(view.authEnabled),
    Generation: `${view.generation} (observed ${view.observedGeneration})`,
    Restarts: view.restarts,
    Pid: view.pid ?? '',
    'Data collection': view.dataCollectionDir ?? 'off',
    Created: view.createdAt,
    Updated: view.updatedAt,
    Error: view.error ?? '',
    Conditions: `\n${view.conditions.map((c) => `  ${c.type.padEnd(17)} ${c.status.padEnd(7)} ${c.reason}: ${c.message}`).join('\n')}`,
  };
}

/** Keys of a log line shown in its prefix (or not at all); the others are printed as key=value. */
const STANDARD_LOG_KEYS = new Set([
  'level',
  'time',
  'pid',
  'hostname',
  'name',
  'role',
  'replica',
  'msg',
  'err',
  'stack',
  'output',
]);

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** One pino JSON line as `time LEVEL [who] msg` (+ the stack, indented); other lines as they are. */
export function formatLogLine(line: string): string {
  if (!line.startsWith('{')) return line;
  let e: Record<string, unknown>;
  try {
    e = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (typeof e.msg !== 'string' && typeof e.level !== 'number') return line;
  const time = typeof e.time === 'number' ? new Date(e.time).toISOString() : '';
  const level = LEVEL_NAMES[e.level as number] ?? String(e.level ?? '');
  const who = [
    e.role,
    e.replica !== undefined ? `replica ${e.replica}` : undefined,
    e.name === 'control-plane' ? 'control-plane' : undefined,
  ]
    .filter((x) => x !== undefined)
    .join(' ');
  const facts = Object.entries(e)
    .filter(([k, v]) => !STANDARD_LOG_KEYS.has(k) && v !== null && typeof v !== 'object')
    .map(([k, v]) => `${k}=${typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : String(v)}`);
  let text = `${time} ${level.padEnd(5)} ${who ? `[${who}] ` : ''}${String(e.msg ?? '')}${facts.length ? ` ${facts.join(' ')}` : ''}`;
  const err = e.err as { stack?: string; message?: string } | undefined;
  const stack = typeof e.stack === 'string' ? e.stack : err?.stack;
  if (stack) text += `\n${stack.replace(/^/gm, '    ')}`;
  if (typeof e.output === 'string') text += `\n${e.output.replace(/^/gm, '    ')}`;
  return text;
}

function formatLogText(text: string): string {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map(formatLogLine)
    .join('\n');
}

/** `berth service list|show|logs|keys|invoke|update|delete`. */
export function register(program: Command): void {
  const service = program
    .command('service')
    .description('Inspect, consume, update and delete deployed services.');

  service
    .command('list')
    .description('List the services of the workspace.')
    .action(async (_o, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const views = await withWorkspace(opts, (ws) => ws.client.listServices());
      printResult(opts, views, () =>
        views.length === 0
          ? 'No services.'
          : formatTable(views, [
              { header: 'name', value: (v) => v.name },
              { header: 'state', value: (v) => v.state },
              { header: 'models', value: (v) => v.models.join(',') },
              { header: 'replicas', value: replicasText },
              { header: 'scoring uri', value: (v) => v.scoringUri },
            ]),
      );
    });

  service
    .command('show')
    .description('Show one service: state, URIs, models, replicas, conditions, error.')
    .argument('<name>', 'service name')
    .action(async (name: string, _o, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const view = await withWorkspace(opts, (ws) => ws.client.getService(name));
      printResult(opts, view, () => formatFields(showFields(view)));
    });

  service
    .command('logs')
    .description("Print the service's log (replicas and control plane); --follow keeps printing new lines.")
    .argument('<name>', 'service name')
    .option('--tail <n>', 'only the last N lines', (v) => parseCount(v))
    .option('-f, --follow', 'keep printing new lines until interrupted')
    .option('--raw', 'print the JSON lines as they are')
    .action(async (name: string, _o, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions & { tail?: number; follow?: boolean; raw?: boolean }>();
      await withWorkspace(opts, async (ws) => {
        if (!opts.follow) {
          const text = await ws.client.getServiceLogs(name, { tail: opts.tail });
          if (opts.json) printJson({ name, logs: text });
          else if (text)
            process.stdout.write(`${opts.raw ? text.replace(/\n$/, '') : formatLogText(text)}\n`);
          return;
        }
        const controller = new AbortController();
        const stop = () => controller.abort();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        let partial = '';
        await ws.client.followServiceLogs(name, {
          tail: opts.tail ?? 20,
          signal: controller.signal,
          onText: (chunk) => {
            const lines = (partial + chunk).split('\n');
            partial = lines.pop() ?? '';
            for (const line of lines) {
              if (line === '') continue;
              process.stdout.write(`${opts.raw || opts.json ? line : formatLogLine(line)}\n`);
            }
          },
        });
      });
    });

  service
    .command('keys')
    .description(
      'Print the primary and secondary keys; --regenerate replaces one (rolled out without downtime).',
    )
    .argument('<name>', 'service name')
    .addOption(new Option('--regenerate <which>', 'key to replace').choices(['primary', 'secondary']))
    .action(async (name: string, _o, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions & { regenerate?: 'primary' | 'secondary' }>();
      const keys = await withWorkspace(opts, async (ws) => {
        if (!opts.regenerate) return ws.client.getServiceKeys(name);
        const { Webservice } = await import('../../sdk/index.js');
        const svc = await Webservice.get(ws, name);
        const k = await svc.regenerateKey(opts.regenerate);
        return { primaryKey: k.primaryKey, secondaryKey: k.secondaryKey };
      });
      printResult(opts, keys, () =>
        formatFields({ 'Primary key': keys.primaryKey, 'Secondary key': keys.secondaryKey }),
      );
    });

  service
    .command('invoke')
    .description('Score JSON with the service (POST its scoring URI, with its key when auth is enabled).')
    .argument('<name>', 'service name')
    .option('-d, --data <json>', 'request body (JSON)')
    .option('--data-file <file>', 'read the request body from a file')
    .action(async (name: string, _o, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions & { data?: string; dataFile?: string }>();
      const { BerthError } = await import('../../core/errors.js');
      let body = opts.data;
      if (opts.dataFile) {
        const { readFileSync } = await import('node:fs');
        try {
          body = readFileSync(opts.dataFile, 'utf8');
        } catch (cause) {
          throw new BerthError('PATH_NOT_FOUND', `Cannot read --data-file "${opts.dataFile}".`, { cause });
        }
      }
      if (body === undefined)
        throw new BerthError(
          'INVALID_ARGUMENT',
          'Give the request body with --data JSON or --data-file FILE.',
        );
      try {
        JSON.parse(body);
      } catch (cause) {
        throw new BerthError('INVALID_ARGUMENT', `--data is not valid JSON: ${(cause as Error).message}.`, {
          hint: `Quote it for the shell, e.g. --data '{"data": [[1, 2, 3]]}'`,
          cause,
        });
      }
      const result = await withWorkspace(opts, async (ws) => {
        const { Webservice } = await import('../../sdk/index.js');
        const svc = await Webservice.get(ws, name);
        return svc.run(body);
      });
      printJson(result);
    });

  const update = service
    .command('update')
    .description(
      'Rolling update to new models and/or configs: no failed request; on failure the old version keeps serving.',
    )
    .argument('<name>', 'service name')
    .option(
      '-m, --model <ref>',
      'model NAME, NAME:VERSION or NAME@ALIAS (repeatable; replaces the served models)',
      collect,
      [],
    )
    .option('--no-wait', 'return at once instead of waiting for the outcome');
  for (const o of configFileOptions()) update.addOption(o);
  update.action(async (name: string, _o, cmd: Command) => {
    const opts = cmd.optsWithGlobals<
      GlobalOptions & ConfigFileOptions & { model: string[]; wait: boolean }
    >();
    const { BerthError } = await import('../../core/errors.js');
    const { assertValidName } = await import('../../core/model-ref.js');
    assertValidName(name, 'service name');
    await checkModelRefs(opts.model);
    const configs = await loadConfigFiles(opts);
    if (opts.model.length === 0 && !configs.inferenceConfig && !configs.deploymentConfig) {
      throw new BerthError(
        'INVALID_ARGUMENT',
        'Nothing to update: give -m MODEL, --ic FILE and/or --dc FILE.',
      );
    }
    const change = {
      models: opts.model.length ? opts.model : undefined,
      inferenceConfig: configs.inferenceConfig,
      deploymentConfig: configs.deploymentConfig,
    };
    await withWorkspace(opts, async (ws) => {
      if (!opts.wait) {
        const view = await ws.client.updateService(name, change);
        printResult(
          opts,
          view,
          () => `Updating service "${name}" (generation ${view.generation}).\n${serviceSummary(view)}`,
        );
        return;
      }
      const { Webservice } = await import('../../sdk/index.js');
      await waitWithProgress(opts, async (output) => {
        output(`Updating service "${name}"${change.models ? ` to ${change.models.join(', ')}` : ''}...`);
        const svc = await Webservice.get(ws, name);
        return svc.update(change, { output });
      });
    });
  });

  service
    .command('delete')
    .description('Delete a service: in-flight requests finish, then its replicas stop.')
    .argument('<name>', 'service name')
    .action(async (name: string, _o, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      await withWorkspace(opts, (ws) => ws.client.deleteService(name));
      printResult(opts, { name, deleted: true }, () => `Deleted service "${name}".`);
    });
}

function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`--tail must be a whole number, got "${value}".`);
  return n;
}
