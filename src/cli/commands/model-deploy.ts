import type { Command } from 'commander';
import type { GlobalOptions } from '../output.js';
import {
  type ConfigFileOptions,
  checkModelRefs,
  collect,
  configFileOptions,
  loadConfigFiles,
  serviceSummary,
  waitWithProgress,
} from './service.js';

interface DeployOptions extends GlobalOptions, ConfigFileOptions {
  name?: string;
  model: string[];
  wait: boolean;
  ct?: string;
  timeout?: string;
}

/** The service name when `-n` is left out (as in the seed's first example): the first model's name. */
function defaultServiceName(ref: string): string {
  return ref.split(/[:@]/)[0];
}

/**
 * `berth model deploy -n NAME -m REF [-m REF]... --ic F --dc F [--no-wait]` (the seed's
 * `az ml model deploy`, `-ic`/`-dc` spellings included). Goes through the workspace's control plane
 * (started in the background when needed), prints progress, ends with state and URIs.
 */
export function register(modelCommand: Command): void {
  const deploy = modelCommand
    .command('deploy')
    .description(
      'Deploy model(s) as a scoring service; prints progress, then the state, scoring URI and swagger URI.',
    )
    .option('-n, --name <service>', "service name (default: the first model's name)")
    .option(
      '-m, --model <ref>',
      'model NAME, NAME:VERSION or NAME@ALIAS (repeatable: several models, one service)',
      collect,
      [],
    )
    .option('--no-wait', 'return at once (state Transitioning) instead of waiting for Healthy')
    .option('--timeout <seconds>', 'give up waiting after this long (default 900)');
  for (const o of configFileOptions()) deploy.addOption(o);
  const ct = deploy.createOption('--ct <compute>', 'compute target (Kubernetes cluster) to deploy to');
  ct.short = '-ct';
  deploy.addOption(ct);
  deploy.action(async (_o, cmd: Command) => {
    const opts = cmd.optsWithGlobals<DeployOptions>();
    const { BerthError } = await import('../../core/errors.js');
    const { assertValidName } = await import('../../core/model-ref.js');
    if (opts.model.length === 0) {
      throw new BerthError('INVALID_ARGUMENT', 'Give at least one model with -m NAME:VERSION.', {
        hint: 'e.g. berth model deploy -n myservice -m iris:1 --ic inferenceconfig.json --dc deploymentconfig.json',
      });
    }
    if (opts.ct) {
      throw new BerthError('NOT_SUPPORTED', `Compute targets (-ct ${opts.ct}) are not supported yet.`, {
        hint: 'Leave -ct out to deploy locally ("computeType": "local").',
      });
    }
    const timeoutMs = opts.timeout === undefined ? undefined : Number(opts.timeout) * 1000;
    if (timeoutMs !== undefined && !(timeoutMs > 0))
      throw new BerthError('INVALID_ARGUMENT', '--timeout must be a number of seconds.');
    await checkModelRefs(opts.model);
    const name = opts.name ?? defaultServiceName(opts.model[0]);
    assertValidName(name, 'service name');
    const { inferenceConfig, deploymentConfig } = await loadConfigFiles(opts);
    const { withWorkspace } = await import('../open-workspace.js');
    const { printResult } = await import('../output.js');
    await withWorkspace(opts, async (ws) => {
      const { Webservice } = await import('../../sdk/index.js');
      if (!opts.wait) {
        const svc = await Webservice.deploy(ws, name, opts.model, inferenceConfig, deploymentConfig);
        const view = svc.toJSON();
        printResult(
          opts,
          view,
          () => `Deploying service "${name}" in the background.\n${serviceSummary(view)}`,
        );
        return;
      }
      await waitWithProgress(opts, async (output) => {
        output(
          `Deploying service "${name}" (${opts.model.join(', ')}) to ${deploymentConfig?.computeType ?? 'local'}...`,
        );
        const svc = await Webservice.deploy(ws, name, opts.model, inferenceConfig, deploymentConfig);
        return svc.waitForDeployment({ output, timeoutMs });
      });
    });
  });
}
