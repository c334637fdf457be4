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
  compute?: string;
  dryRun?: boolean;
  timeout?: string;
}

/** The service name when `-n` is left out (as in the seed's first example): the first model's name. */
function defaultServiceName(ref: string): string {
  return ref.split(/[:@]/)[0];
}

/**
 * `berth model deploy -n NAME -m REF [-m REF]... --ic F --dc F [--compute C] [--dry-run] [--no-wait]`
 * (the seed's `az ml model deploy`, `-ic`/`-dc`/`-ct` spellings included). Goes through the workspace's
 * control plane (started in the background when needed), prints progress, ends with state and URIs.
 * `"computeType": "kubernetes"` (or `--compute`) deploys to an attached cluster; `--dry-run` prints
 * its Kubernetes YAML and deploys nothing.
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
  const compute = deploy.createOption(
    '--compute <name>',
    'attached Kubernetes compute to deploy to (default: the only one; implies "computeType": "kubernetes")',
  );
  compute.short = '-ct';
  deploy.addOption(compute);
  deploy.option('--dry-run', 'print the Kubernetes objects (YAML) it would apply, deploy nothing');
  deploy.action(async (_o, cmd: Command) => {
    const opts = cmd.optsWithGlobals<DeployOptions>();
    const { BerthError } = await import('../../core/errors.js');
    const { assertValidName } = await import('../../core/model-ref.js');
    if (opts.model.length === 0) {
      throw new BerthError('INVALID_ARGUMENT', 'Give at least one model with -m NAME:VERSION.', {
        hint: 'e.g. berth model deploy -n myservice -m iris:1 --ic inferenceconfig.json --dc deploymentconfig.json',
      });
    }
    const timeoutMs = opts.timeout === undefined ? undefined : Number(opts.timeout) * 1000;
    if (timeoutMs !== undefined && !(timeoutMs > 0))
      throw new BerthError('INVALID_ARGUMENT', '--timeout must be a number of seconds.');
    await checkModelRefs(opts.model);
    const name = opts.name ?? defaultServiceName(opts.model[0]);
    assertValidName(name, 'service name');
    const loaded = await loadConfigFiles(opts);
    const { inferenceConfig } = loaded;
    let { deploymentConfig } = loaded;
    if (opts.compute && !deploymentConfig) {
      const { parseDeploymentConfig } = await import('../../core/config/deployment-config.js');
      deploymentConfig = parseDeploymentConfig({ computeType: 'kubernetes' }, 'deployment config');
    }
    const kube = deploymentConfig?.computeType === 'kubernetes';
    if (opts.compute && !kube) {
      throw new BerthError(
        'INVALID_ARGUMENT',
        `--compute ${opts.compute} deploys to Kubernetes, but the deployment config says "computeType": "${deploymentConfig?.computeType}".`,
        { hint: 'Set "computeType": "kubernetes" in deploymentconfig.json, or leave --compute out.' },
      );
    }
    if (opts.dryRun) {
      if (!kube || !deploymentConfig) {
        throw new BerthError(
          'INVALID_ARGUMENT',
          '--dry-run prints the Kubernetes objects of a service; this deployment is local.',
          { hint: 'Use a deployment config with "computeType": "kubernetes", or --compute NAME.' },
        );
      }
      const { parseInferenceConfig } = await import('../../core/config/inference-config.js');
      const { printKubernetesManifest } = await import('./compute.js');
      await printKubernetesManifest(
        opts,
        {
          name,
          models: opts.model,
          inferenceConfig:
            inferenceConfig ?? parseInferenceConfig({ runtime: 'onnx' }, process.cwd(), 'inference config'),
          deploymentConfig,
          ...(deploymentConfig.keys
            ? {
                keys: {
                  primaryKey: deploymentConfig.keys.primaryKey ?? '<generated-at-deploy>',
                  secondaryKey: deploymentConfig.keys.secondaryKey ?? '<generated-at-deploy>',
                },
              }
            : {}),
        },
        { compute: opts.compute },
      );
      return;
    }
    const target = kube ? { compute: opts.compute } : {};
    const { withWorkspace } = await import('../open-workspace.js');
    const { printResult } = await import('../output.js');
    await withWorkspace(opts, async (ws) => {
      const { Webservice } = await import('../../sdk/index.js');
      if (!opts.wait) {
        const svc = await Webservice.deploy(ws, name, opts.model, inferenceConfig, deploymentConfig, target);
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
        const svc = await Webservice.deploy(ws, name, opts.model, inferenceConfig, deploymentConfig, target);
        return svc.waitForDeployment({ output, timeoutMs });
      });
    });
  });
}
