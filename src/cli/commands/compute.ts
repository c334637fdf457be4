import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { DeploymentConfig } from '../../core/config/deployment-config.js';
import type { InferenceConfig } from '../../core/config/inference-config.js';
import { BerthError } from '../../core/errors.js';
import type { KubernetesServiceRequest } from '../../deploy/targets/kubernetes/kubernetes-target.js';
import type { Workspace } from '../../sdk/workspace.js';
import { withWorkspace } from '../open-workspace.js';
import { formatFields, formatTable, type GlobalOptions, printResult } from '../output.js';

interface AttachOptions {
  kubeconfig: string;
  context?: string;
  namespace?: string;
  imageRegistry?: string;
  image?: string;
  workspaceUrl?: string;
  check: boolean;
}

/** The workspace folder computes.json lives in; computes are local to a workspace folder. */
export function workspaceDirOf(opts: GlobalOptions): string {
  if (opts.url || process.env.BERTH_URL) {
    throw new BerthError('NOT_SUPPORTED', 'Computes are attached to a workspace folder, not through --url.', {
      hint: 'Run "berth compute ..." on the machine of the workspace, with --workspace DIR.',
    });
  }
  return resolve(opts.workspace || process.env.BERTH_WORKSPACE || '.berth');
}

async function computeStore(opts: GlobalOptions) {
  const { FileComputeStore } = await import('../../deploy/targets/kubernetes/compute-store.js');
  return new FileComputeStore(workspaceDirOf(opts));
}

/** What `--dry-run` and `berth service manifest` render: a service as it is or as it would be deployed. */
export interface ManifestSource {
  name: string;
  /** Model references (resolved to exact versions through the workspace). */
  models: readonly string[];
  inferenceConfig: InferenceConfig;
  deploymentConfig: DeploymentConfig;
  /** Absent = placeholders (keys are generated when the service is deployed). */
  keys?: { primaryKey: string; secondaryKey: string };
}

async function kubernetesRequest(
  ws: Workspace,
  opts: GlobalOptions,
  src: ManifestSource,
): Promise<KubernetesServiceRequest> {
  const models = [];
  for (const ref of src.models) models.push(await ws.client.getModel(ref));
  const token = opts.token || process.env.BERTH_TOKEN;
  return {
    name: src.name,
    desired: {
      inferenceConfig: src.inferenceConfig,
      deploymentConfig: src.deploymentConfig,
      keys: src.keys ?? { primaryKey: '<generated-at-deploy>', secondaryKey: '<generated-at-deploy>' },
    },
    models,
    ...(token ? { workspaceToken: token } : {}),
  };
}

/**
 * Prints the Kubernetes YAML a service would be applied as (Secret values redacted unless
 * `showSecrets`). For `berth model deploy ... --dry-run` with `"computeType": "kubernetes"`:
 * call it with the parsed flags instead of deploying.
 * @throws COMPUTE_NOT_FOUND, INVALID_NAME, MODEL_NOT_FOUND
 */
export async function printKubernetesManifest(
  opts: GlobalOptions,
  src: ManifestSource,
  options: { compute?: string; showSecrets?: boolean } = {},
): Promise<void> {
  const store = await computeStore(opts);
  const { KubernetesTarget } = await import('../../deploy/targets/kubernetes/kubernetes-target.js');
  const target = new KubernetesTarget(store.resolve(options.compute));
  await withWorkspace(opts, async (ws) => {
    const yaml = target.manifestYaml(await kubernetesRequest(ws, opts, src), {
      showSecrets: options.showSecrets,
    });
    printResult(opts, { compute: target.compute.name, namespace: target.compute.namespace, yaml }, () =>
      yaml.trimEnd(),
    );
  });
}

/** Adds `manifest` to the `service` command: `berth service manifest NAME [--compute C] [--show-secrets]`. */
export function registerServiceManifest(service: Command): void {
  service
    .command('manifest <name>')
    .description('Print the Kubernetes objects (YAML) of a service, for review or GitOps.')
    .option('--compute <name>', 'attached compute (default: the only one)')
    .option('--show-secrets', 'print the keys in the Secret instead of <redacted>')
    .action(async (name: string, o: { compute?: string; showSecrets?: boolean }, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const src = await withWorkspace(opts, async (ws) => {
        const s = await ws.client.getService(name);
        const keys = s.authEnabled ? await ws.client.getServiceKeys(name) : undefined;
        return {
          name,
          models: s.models,
          inferenceConfig: s.inferenceConfig,
          deploymentConfig: s.deploymentConfig as DeploymentConfig,
          ...(keys ? { keys: { primaryKey: keys.primaryKey, secondaryKey: keys.secondaryKey } } : {}),
        };
      });
      await printKubernetesManifest(opts, src, o);
    });
}

/**
 * Registers `berth compute attach|list|show|detach` (attached Kubernetes clusters) and
 * `berth service manifest`. Call it after the `service` command is registered: it adds to it.
 */
export function register(program: Command): void {
  registerServiceManifest(
    program.commands.find((c) => c.name() === 'service') ??
      program.command('service').description('Manage deployed services.'),
  );
  const compute = program
    .command('compute')
    .description('Attach Kubernetes clusters that services can be deployed to.');

  compute
    .command('attach <name>')
    .description('Attach a Kubernetes cluster (a kubeconfig context and namespace) under NAME.')
    .requiredOption('--kubeconfig <path>', 'kubeconfig file')
    .option('--context <context>', "kubeconfig context (default: the file's current-context)")
    .option('--namespace <ns>', "namespace of the services (default: the context's, else default)")
    .option('--image-registry <registry>', 'registry prefix of service images, e.g. registry.example.com/ml')
    .option('--image <image>', 'one image for every service instead of berth-<service>:<tag>')
    .option(
      '--workspace-url <url>',
      "this workspace's management API as pods reach it (models are then downloaded)",
    )
    .option('--no-check', 'do not contact the cluster now')
    .action(async (name: string, o: AttachOptions, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const store = await computeStore(opts);
      store.assertNameFree(name);
      if (o.workspaceUrl && !/^https?:\/\//.test(o.workspaceUrl)) {
        throw new BerthError(
          'INVALID_ARGUMENT',
          `--workspace-url "${o.workspaceUrl}" is not an http(s) URL.`,
          {
            hint: 'Pass the management API address as pods see it, e.g. http://berth.example.com:5000.',
          },
        );
      }
      const { KubernetesCluster } = await import('../../deploy/targets/kubernetes/kubernetes-cluster.js');
      const kubeconfig = resolve(o.kubeconfig);
      const cluster = await KubernetesCluster.open({
        kubeconfig,
        context: o.context,
        namespace: o.namespace,
      });
      if (o.check) await cluster.checkNamespace();
      const added = store.add({
        name,
        type: 'kubernetes',
        kubeconfig,
        context: cluster.context,
        namespace: cluster.namespace,
        ...(o.imageRegistry ? { imageRegistry: o.imageRegistry } : {}),
        ...(o.image ? { image: o.image } : {}),
        ...(o.workspaceUrl ? { workspaceUrl: o.workspaceUrl } : {}),
        attachedAt: new Date().toISOString(),
      });
      const view = { ...added, server: cluster.server, checked: o.check };
      printResult(
        opts,
        view,
        () =>
          `Attached ${name} (${cluster.server}, context ${cluster.context}, namespace ${cluster.namespace}).`,
      );
    });

  compute
    .command('list')
    .description('List the attached computes.')
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const rows = (await computeStore(opts)).list();
      printResult(opts, rows, () =>
        rows.length === 0
          ? 'No compute attached. Attach one with: berth compute attach NAME --kubeconfig PATH'
          : formatTable(rows, [
              { header: 'name', value: (c) => c.name },
              { header: 'type', value: (c) => c.type },
              { header: 'context', value: (c) => c.context },
              { header: 'namespace', value: (c) => c.namespace },
              { header: 'image registry', value: (c) => c.imageRegistry ?? c.image ?? '' },
              { header: 'kubeconfig', value: (c) => c.kubeconfig },
            ]),
      );
    });

  compute
    .command('show <name>')
    .description('Show an attached compute.')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const c = (await computeStore(opts)).get(name);
      printResult(opts, c, () => formatFields({ ...c }));
    });

  compute
    .command('detach <name>')
    .description('Forget an attached compute (its services keep running in the cluster).')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const c = (await computeStore(opts)).remove(name);
      printResult(opts, { detached: c.name }, () => `Detached ${c.name}.`);
    });
}
