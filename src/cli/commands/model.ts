import type { Command } from 'commander';
import type { ModelVersion } from '../../registry/model-version.js';
import { withWorkspace } from '../open-workspace.js';
import { formatFields, formatTable, type GlobalOptions, printResult } from '../output.js';
import { register as registerModelDeploy } from './model-deploy.js';

/**
 * `berth model register|list|show|download|delete|tag|alias`. Heavy modules (SDK, SQLite) load
 * inside the actions; flags are validated before the workspace is opened, so bad input writes nothing.
 */
export function register(program: Command): void {
  const model = program.command('model').description('Register, list, fetch, tag and delete model versions.');

  model
    .command('register')
    .description('Register a file or a folder (relative layout kept) as the next version of NAME.')
    .requiredOption(
      '-n, --name <name>',
      'model name: A-Z a-z 0-9 _ . - (up to 255, starting with a letter or digit)',
    )
    .requiredOption('-p, --path <path>', 'model file or folder')
    .option('--tag <key=value>', 'tag (repeatable)', collect, [])
    .option('--property <key=value>', 'property, fixed at registration (repeatable)', collect, [])
    .option('-d, --description <text>', 'description')
    .action(async (_o, cmd: Command) => {
      const opts = cmd.optsWithGlobals<RegisterOptions>();
      const { assertValidName } = await import('../../core/model-ref.js');
      const { parseKeyValues, walkModelInput } = await import('../../registry/index.js');
      assertValidName(opts.name, 'model name');
      const tags = parseKeyValues(opts.tag, 'tag');
      const properties = parseKeyValues(opts.property, 'property');
      walkModelInput(opts.path);
      const registered = await withWorkspace(opts, async (ws) => {
        const { Model } = await import('../../sdk/index.js');
        const m = await Model.register(ws, {
          name: opts.name,
          path: opts.path,
          tags,
          properties,
          description: opts.description,
        });
        return m.toJSON();
      });
      printResult(
        opts,
        registered,
        () => `Registered ${registered.id}\n${formatFields(summaryFields(registered))}`,
      );
    });

  model
    .command('list')
    .description('List model versions, newest first within each name.')
    .option('-n, --name <name>', 'only this model name')
    .option(
      '--tag <key[=value]>',
      'only versions with this tag (key=value) or tag key (repeatable, all must match)',
      collect,
      [],
    )
    .option('--latest', 'only the highest version of each name')
    .action(async (_o, cmd: Command) => {
      const opts = cmd.optsWithGlobals<ListOptions>();
      const { assertValidName } = await import('../../core/model-ref.js');
      const { parseTagFilter } = await import('../../registry/key-value.js');
      if (opts.name !== undefined) assertValidName(opts.name, 'model name');
      const tags = parseTagFilter(opts.tag);
      const models = await withWorkspace(opts, async (ws) =>
        ws.client.listModels({ name: opts.name, tags, latest: opts.latest }),
      );
      printResult(opts, models, () => (models.length === 0 ? 'No models found.' : formatModelTable(models)));
    });

  model
    .command('show')
    .description('Show one model version: REF is NAME (latest), NAME:VERSION or NAME@ALIAS.')
    .argument('<ref>', 'NAME, NAME:VERSION or NAME@ALIAS')
    .action(async (ref: string, _o, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      await checkRef(ref);
      const m = await withWorkspace(opts, (ws) => ws.client.getModel(ref));
      printResult(opts, m, () => describeModel(m));
    });

  model
    .command('download')
    .description("Write a model version's files into DIR, verified against their sha256.")
    .argument('<ref>', 'NAME, NAME:VERSION or NAME@ALIAS')
    .requiredOption('-o, --output <dir>', 'destination folder (created if needed)')
    .action(async (ref: string, _o, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions & { output: string }>();
      await checkRef(ref);
      const { resolve } = await import('node:path');
      const m = await withWorkspace(opts, (ws) => ws.client.downloadModel(ref, opts.output));
      printResult(
        opts,
        m,
        () =>
          `Downloaded ${m.id} (${m.fileCount} file${m.fileCount === 1 ? '' : 's'}, ${formatBytes(m.size)}) to ${resolve(opts.output)}`,
      );
    });

  model
    .command('delete')
    .description('Delete one model version (NAME alone deletes the latest); refused while a service uses it.')
    .argument('<ref>', 'NAME, NAME:VERSION or NAME@ALIAS')
    .action(async (ref: string, _o, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      await checkRef(ref);
      const m = await withWorkspace(opts, (ws) => ws.client.deleteModel(ref));
      printResult(opts, m, () => `Deleted ${m.id}`);
    });

  model
    .command('tag')
    .description('Add or change tags (--add key=value) and remove tags (--remove key) of a model version.')
    .argument('<ref>', 'NAME, NAME:VERSION or NAME@ALIAS')
    .option('--add <key=value>', 'tag to set (repeatable)', collect, [])
    .option('--remove <key>', 'tag key to remove (repeatable)', collect, [])
    .action(async (ref: string, _o, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions & { add: string[]; remove: string[] }>();
      await checkRef(ref);
      const { BerthError } = await import('../../core/errors.js');
      const { parseKeyValues } = await import('../../registry/key-value.js');
      const { assertValidKey } = await import('../../registry/key-value.js');
      if (opts.add.length === 0 && opts.remove.length === 0) {
        throw new BerthError(
          'INVALID_ARGUMENT',
          'Nothing to change: give --add key=value and/or --remove key.',
          {
            hint: `berth model tag ${ref} --add stage=production`,
          },
        );
      }
      const add = parseKeyValues(opts.add, 'tag');
      for (const key of opts.remove) assertValidKey(key, 'tag');
      const m = await withWorkspace(opts, (ws) => ws.client.tagModel(ref, { add, remove: opts.remove }));
      printResult(opts, m, () => `Tagged ${m.id}\n${formatFields({ tags: formatKeyValues(m.tags) || '-' })}`);
    });

  model
    .command('alias')
    .description(
      'Point ALIAS at a model version (moving it from any other version): NAME@ALIAS then resolves to it.',
    )
    .argument('<ref>', 'NAME:VERSION (or NAME, NAME@OTHER_ALIAS)')
    .argument('<alias>', 'alias name, e.g. production')
    .action(async (ref: string, alias: string, _o, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      await checkRef(ref);
      const { assertValidName } = await import('../../core/model-ref.js');
      assertValidName(alias, 'alias');
      const m = await withWorkspace(opts, (ws) => ws.client.setModelAlias(ref, alias));
      printResult(opts, m, () => `${m.name}@${alias} -> ${m.id}`);
    });

  registerModelDeploy(model);
}

interface RegisterOptions extends GlobalOptions {
  name: string;
  path: string;
  tag: string[];
  property: string[];
  description?: string;
}

interface ListOptions extends GlobalOptions {
  name?: string;
  tag: string[];
  latest?: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function checkRef(ref: string): Promise<void> {
  const { parseModelRef } = await import('../../core/model-ref.js');
  parseModelRef(ref);
}

function formatModelTable(models: readonly ModelVersion[]): string {
  return formatTable(models, [
    { header: 'id', value: (m) => m.id },
    { header: 'size', value: (m) => formatBytes(m.size) },
    { header: 'files', value: (m) => m.fileCount },
    { header: 'aliases', value: (m) => m.aliases.join(',') },
    { header: 'tags', value: (m) => formatKeyValues(m.tags) },
    { header: 'created', value: (m) => m.createdAt },
  ]);
}

function summaryFields(m: ModelVersion): Record<string, string> {
  return {
    sha256: m.sha256,
    size: `${formatBytes(m.size)} (${m.size} bytes)`,
    files: String(m.fileCount),
    createdAt: m.createdAt,
  };
}

function describeModel(m: ModelVersion): string {
  const fields = formatFields({
    id: m.id,
    name: m.name,
    version: String(m.version),
    ...summaryFields(m),
    aliases: m.aliases.join(', ') || '-',
    tags: formatKeyValues(m.tags) || '-',
    properties: formatKeyValues(m.properties) || '-',
    description: m.description ?? '-',
  });
  const files = formatTable(m.files, [
    { header: 'path', value: (f) => f.path },
    { header: 'size', value: (f) => f.size },
    { header: 'sha256', value: (f) => f.sha256 },
  ]);
  return `${fields}\n\n${files}`;
}

function formatKeyValues(record: Record<string, string>): string {
  return Object.entries(record)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}
