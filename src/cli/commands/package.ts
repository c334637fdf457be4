import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { DeploymentConfig } from '../../core/config/deployment-config.js';
import type { InferenceConfig } from '../../core/config/inference-config.js';
import type { PackageModel, ServicePackage } from '../../deploy/packaging/build-service-package.js';
import type { Workspace } from '../../sdk/workspace.js';
import { withWorkspace } from '../open-workspace.js';
import { formatFields, type GlobalOptions, printResult } from '../output.js';

interface PackageOptions {
  output: string;
  tar?: boolean;
}

function subcommand(program: Command, name: string, description: string): Command {
  return program.commands.find((c) => c.name() === name) ?? program.command(name).description(description);
}

/** Downloads each model version into a temp folder; returns the package models and a cleanup. */
async function downloadModels(
  ws: Workspace,
  refs: readonly string[],
): Promise<{ models: PackageModel[]; cleanup(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-package-'));
  try {
    const models: PackageModel[] = [];
    for (const ref of refs) {
      const v = await ws.client.getModel(ref);
      const path = join(dir, v.name, String(v.version));
      await ws.client.downloadModel(v.id, path);
      models.push({ name: v.name, version: v.version, path, sha256: v.sha256 });
    }
    return { models, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

function human(p: ServicePackage): string {
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(2)} MB`;
  return [
    `Package written to ${p.path}`,
    formatFields({
      kind: p.kind,
      size: `${mb(p.size)} (${p.fileCount} files)`,
      models: `${p.models.map((m) => `${m.name}:${m.version}`).join(', ')} (${mb(p.modelBytes)})`,
      baseImage: p.baseImage,
      took: `${(p.durationMs / 1000).toFixed(1)} s`,
    }),
    p.kind === 'folder'
      ? `Build it: docker build -t IMAGE ${p.path}   (see ${join(p.path, 'README.md')})`
      : '',
  ]
    .filter(Boolean)
    .join('\n');
}

async function build(
  opts: GlobalOptions,
  ws: Workspace,
  input: {
    name: string;
    refs: string[];
    inferenceConfig: InferenceConfig;
    deploymentConfig?: DeploymentConfig;
  },
  o: PackageOptions,
): Promise<void> {
  const { buildServicePackage } = await import('../../deploy/packaging/build-service-package.js');
  const { models, cleanup } = await downloadModels(ws, input.refs);
  try {
    const p = await buildServicePackage({
      name: input.name,
      models,
      inferenceConfig: input.inferenceConfig,
      deploymentConfig: input.deploymentConfig,
      outDir: o.output,
      tar: o.tar,
    });
    const view = { ...p, models: p.models.map(({ files, ...m }) => ({ ...m, fileCount: files.length })) };
    printResult(opts, view, () => human(p));
  } finally {
    cleanup();
  }
}

/** Adds `package` to the `service` command: `berth service package NAME -o DIR [--tar]`. */
export function registerServicePackage(service: Command): void {
  service
    .command('package <name>')
    .description(
      'Write a self-contained build context (Dockerfile, models, code, pinned runtime) of a service.',
    )
    .requiredOption('-o, --output <dir>', 'folder to write (or archive path with --tar)')
    .option('--tar', 'write one .tar.gz archive instead of a folder')
    .action(async (name: string, o: PackageOptions, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      await withWorkspace(opts, async (ws) => {
        const s = await ws.client.getService(name);
        await build(
          opts,
          ws,
          {
            name,
            refs: s.models,
            inferenceConfig: s.inferenceConfig,
            deploymentConfig: s.deploymentConfig as DeploymentConfig,
          },
          o,
        );
      });
    });
}

/** Adds `package` to the `model` command: `berth model package -m REF... --ic F -o DIR [--tar]`. */
export function registerModelPackage(model: Command): void {
  model
    .command('package')
    .description('Write a self-contained build context for serving models with an inference config.')
    .requiredOption(
      '-m, --model <ref>',
      'model NAME, NAME:VERSION or NAME@ALIAS (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [],
    )
    .requiredOption('--ic <file>', 'inferenceconfig.json')
    .option('--dc <file>', 'deploymentconfig.json (limits go into serve.json)')
    .option('-n, --name <name>', 'name of the package (default: the first model)')
    .requiredOption('-o, --output <dir>', 'folder to write (or archive path with --tar)')
    .option('--tar', 'write one .tar.gz archive instead of a folder')
    .action(
      async (
        o: PackageOptions & { model: string[]; ic: string; dc?: string; name?: string },
        cmd: Command,
      ) => {
        const opts = cmd.optsWithGlobals<GlobalOptions>();
        const { loadInferenceConfig } = await import('../../core/config/inference-config.js');
        const { loadDeploymentConfig } = await import('../../core/config/deployment-config.js');
        const inferenceConfig = loadInferenceConfig(o.ic);
        const deploymentConfig = o.dc ? loadDeploymentConfig(o.dc) : undefined;
        await withWorkspace(opts, async (ws) => {
          const first = o.name ?? (await ws.client.getModel(o.model[0])).name;
          await build(opts, ws, { name: first, refs: o.model, inferenceConfig, deploymentConfig }, o);
        });
      },
    );
}

/**
 * Registers `berth service package` and `berth model package`. Call it after the `model` and
 * `service` commands are registered: it adds to them (and creates them only when missing).
 */
export function register(program: Command): void {
  registerModelPackage(subcommand(program, 'model', 'Register, list and manage models.'));
  registerServicePackage(subcommand(program, 'service', 'Manage deployed services.'));
}
