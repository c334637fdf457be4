import { createHash } from 'node:crypto';
import type { ServiceDesired } from '../../../store/service-store.js';
import { readBerthPackageJson } from '../../packaging/berth-runtime-tarball.js';
import { planCodeLayout } from '../../packaging/portable-inference-config.js';
import {
  buildKubernetesManifests,
  type KubernetesManifests,
  type KubernetesServiceInput,
  type ManifestModel,
  manifestList,
} from './build-manifests.js';
import type { KubernetesCompute } from './compute-store.js';
import { KubernetesCluster } from './kubernetes-cluster.js';
import { assertKubernetesName, objectNames, ownerSelector } from './kubernetes-names.js';
import { type KubernetesObservation, observeKubernetesState } from './observe-kubernetes-state.js';
import { renderManifestYaml } from './render-manifest-yaml.js';

/** What the Kubernetes target needs of a service (DEPLOY's ServiceDesired plus the resolved model versions). */
export interface KubernetesServiceRequest {
  name: string;
  desired: Pick<ServiceDesired, 'inferenceConfig' | 'deploymentConfig' | 'keys'>;
  /** The desired `name:version` models as the registry has them (ModelVersion fits). */
  models: ManifestModel[];
  /** Token for the management API, given to the init container when the compute has a workspaceUrl. */
  workspaceToken?: string;
}

/**
 * The image a service's pods run: the compute's fixed `image`, else
 * `<imageRegistry>/berth-<service>:<tag>`, where the tag hashes what the image must contain
 * (Berth's version, the inference config and, when models are not downloaded, the model ids).
 * Build it with `berth service package NAME -o ctx && docker build -t IMAGE ctx && docker push IMAGE`.
 */
export function serviceImage(compute: KubernetesCompute, request: KubernetesServiceRequest): string {
  if (compute.image) return compute.image;
  const tag = createHash('sha256')
    .update(
      JSON.stringify({
        berth: readBerthPackageJson().version,
        inferenceConfig: planCodeLayout(request.desired.inferenceConfig).config,
        models: compute.workspaceUrl ? [] : request.models.map((m) => `${m.name}:${m.version}:${m.sha256}`),
      }),
    )
    .digest('hex')
    .slice(0, 12);
  const repo = `berth-${request.name}`;
  return `${compute.imageRegistry ? `${compute.imageRegistry.replace(/\/+$/, '')}/` : ''}${repo}:${tag}`;
}

/** Maps a service request onto the pure manifest input for a compute. */
export function kubernetesServiceInput(
  compute: KubernetesCompute,
  request: KubernetesServiceRequest,
): KubernetesServiceInput {
  const dc = request.desired.deploymentConfig;
  return {
    name: request.name,
    namespace: compute.namespace,
    image: serviceImage(compute, request),
    models: request.models,
    inferenceConfig: request.desired.inferenceConfig,
    deploymentConfig: dc,
    ...(dc.authEnabled ? { keys: request.desired.keys } : {}),
    modelSource: compute.workspaceUrl
      ? {
          kind: 'api',
          workspaceUrl: compute.workspaceUrl,
          ...(request.workspaceToken ? { token: request.workspaceToken } : {}),
        }
      : { kind: 'image' },
  };
}

/**
 * Runs services on an attached Kubernetes cluster. Desired state → objects (pure, see
 * build-manifests.ts) → server-side apply; status, logs and delete work from the owner labels.
 * Every method is idempotent: re-applying the same service changes nothing, deleting twice is harmless.
 */
export class KubernetesTarget {
  readonly computeType = 'kubernetes' as const;

  constructor(readonly compute: KubernetesCompute) {}

  /** The objects for a service (pure; no cluster access). @throws INVALID_NAME */
  manifests(request: KubernetesServiceRequest): KubernetesManifests {
    return buildKubernetesManifests(kubernetesServiceInput(this.compute, request));
  }

  /** The YAML `--dry-run` and `berth service manifest` print. Secret values are redacted unless asked. */
  manifestYaml(request: KubernetesServiceRequest, options: { showSecrets?: boolean } = {}): string {
    return renderManifestYaml(manifestList(this.manifests(request)), { redactSecrets: !options.showSecrets });
  }

  /**
   * Creates or updates the service's objects (server-side apply, field manager `berth`); a changed
   * model, config or key changes the pod template, and the Deployment's rolling update (maxUnavailable 0)
   * replaces the pods. Objects of the service that the new desired state no longer has (an HPA
   * after autoscaling was turned off, a Secret after auth was) are deleted.
   * @returns `Kind/name` of every applied object.
   * @throws INVALID_NAME, KUBECONFIG_INVALID, CLUSTER_UNREACHABLE, CLUSTER_FORBIDDEN, NAMESPACE_NOT_FOUND, CLUSTER_REQUEST_FAILED
   */
  async apply(request: KubernetesServiceRequest): Promise<string[]> {
    const objects = manifestList(this.manifests(request));
    const cluster = await this.cluster();
    await cluster.checkNamespace();
    await cluster.apply(objects);
    const names = objectNames(request.name);
    const keep = new Set(objects.map((o) => `${o.kind}/${o.metadata?.name}`));
    const stale = [`HorizontalPodAutoscaler/${names.hpa}`, `Secret/${names.secret}`].filter(
      (k) => !keep.has(k),
    );
    if (stale.length > 0) await cluster.deleteSelected(ownerSelector(request.name), stale);
    return [...keep];
  }

  /** Deployment and pods mapped onto the service state. @throws the cluster errors of `apply` */
  async observe(name: string): Promise<KubernetesObservation> {
    assertKubernetesName(name);
    const cluster = await this.cluster();
    const deployment = await cluster.readDeployment(objectNames(name).deployment);
    const pods = deployment ? await cluster.listPods(ownerSelector(name)) : [];
    return observeKubernetesState(deployment, pods);
  }

  /**
   * The logs of the service's pods: the init container's (model download and checks) and the server's,
   * each line prefixed with `pod/container`. @param tail lines per container (default all)
   */
  async logs(name: string, options: { tail?: number } = {}): Promise<string> {
    assertKubernetesName(name);
    const cluster = await this.cluster();
    const pods = await cluster.listPods(ownerSelector(name));
    const out: string[] = [];
    for (const pod of [...pods].sort((a, b) =>
      (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''),
    )) {
      const podName = pod.metadata?.name;
      if (!podName) continue;
      for (const container of ['fetch-models', 'server']) {
        const text = await cluster.podLog(podName, container, options.tail);
        for (const line of text.split('\n')) if (line) out.push(`${podName}/${container} ${line}`);
      }
    }
    return out.join('\n');
  }

  /**
   * Deletes exactly the objects labelled as Berth's for this service (in this compute's namespace);
   * objects without both owner labels are left alone. @returns `Kind/name` of each deleted object.
   */
  async delete(name: string): Promise<string[]> {
    assertKubernetesName(name);
    const cluster = await this.cluster();
    return cluster.deleteSelected(ownerSelector(name));
  }

  /** Opens the compute's kubeconfig; @throws KUBECONFIG_INVALID */
  cluster(): Promise<KubernetesCluster> {
    return KubernetesCluster.open({
      kubeconfig: this.compute.kubeconfig,
      context: this.compute.context || undefined,
      namespace: this.compute.namespace,
    });
  }
}
