import type { IDeployment } from 'kubernetes-models/apps/v1';
import type { IPod } from 'kubernetes-models/v1';
import { BerthError } from '../../../core/errors.js';
import { FIELD_MANAGER } from './kubernetes-names.js';

type ClientNode = typeof import('@kubernetes/client-node');

/** A Kubernetes object as Berth applies it. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
}

/** The kinds Berth creates for a service, in the order `delete` removes them. */
export const OWNED_KINDS: readonly { apiVersion: string; kind: string }[] = [
  { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'v1', kind: 'Secret' },
  { apiVersion: 'v1', kind: 'ConfigMap' },
];

let clientNode: Promise<ClientNode> | undefined;

/** Loads @kubernetes/client-node on first use (it is large, and only Kubernetes commands need it). */
function loadClientNode(): Promise<ClientNode> {
  clientNode ??= import('@kubernetes/client-node').catch((cause: unknown) => {
    clientNode = undefined;
    throw new BerthError(
      'INTERNAL',
      `The Kubernetes client library cannot be loaded: ${(cause as Error).message}`,
      {
        hint: 'Reinstall Berth (npm ci). On Node.js 20, @kubernetes/client-node needs undici 7 (package.json "overrides").',
        cause,
      },
    );
  });
  return clientNode;
}

/** Where a cluster is and who we are there: a kubeconfig file, one of its contexts and a namespace. */
export interface ClusterAccess {
  kubeconfig: string;
  /** Absent = the kubeconfig's current-context. */
  context?: string;
  /** Absent = the context's namespace, else `default`. */
  namespace?: string;
}

/**
 * The Kubernetes API calls Berth makes, with every failure turned into a BerthError:
 * connection refused / DNS / TLS → CLUSTER_UNREACHABLE, 401/403 → CLUSTER_FORBIDDEN,
 * a missing namespace → NAMESPACE_NOT_FOUND, anything else → CLUSTER_REQUEST_FAILED.
 */
export class KubernetesCluster {
  private constructor(
    private readonly k8s: ClientNode,
    private readonly kc: InstanceType<ClientNode['KubeConfig']>,
    readonly context: string,
    readonly namespace: string,
    readonly server: string,
  ) {}

  /**
   * Reads the kubeconfig and selects the context (no network).
   * @throws KUBECONFIG_INVALID when the file is unreadable, has no such context, or no cluster for it.
   */
  static async open(access: ClusterAccess): Promise<KubernetesCluster> {
    const k8s = await loadClientNode();
    const kc = new k8s.KubeConfig();
    try {
      kc.loadFromFile(access.kubeconfig);
    } catch (cause) {
      throw new BerthError(
        'KUBECONFIG_INVALID',
        `Cannot read the kubeconfig "${access.kubeconfig}": ${(cause as Error).message}`,
        {
          hint: 'Pass the path of a valid kubeconfig file (the one kubectl uses, e.g. ~/.kube/config).',
          cause,
        },
      );
    }
    const contexts = kc.getContexts().map((c) => c.name);
    const context = access.context ?? kc.getCurrentContext();
    if (!context || !contexts.includes(context)) {
      throw new BerthError(
        'KUBECONFIG_INVALID',
        access.context
          ? `The kubeconfig "${access.kubeconfig}" has no context "${access.context}".`
          : `The kubeconfig "${access.kubeconfig}" has no current-context.`,
        {
          hint: contexts.length
            ? `Use --context with one of: ${contexts.join(', ')}.`
            : 'The file defines no context at all.',
        },
      );
    }
    kc.setCurrentContext(context);
    const cluster = kc.getCurrentCluster();
    if (!cluster?.server) {
      throw new BerthError(
        'KUBECONFIG_INVALID',
        `Context "${context}" of "${access.kubeconfig}" names no cluster with a server address.`,
        {
          hint: 'Fix the context\'s "cluster" entry in the kubeconfig.',
        },
      );
    }
    const namespace = access.namespace ?? kc.getContextObject(context)?.namespace ?? 'default';
    return new KubernetesCluster(k8s, kc, context, namespace, cluster.server);
  }

  /**
   * Checks that the API server answers and the namespace exists.
   * @throws CLUSTER_UNREACHABLE, CLUSTER_FORBIDDEN, NAMESPACE_NOT_FOUND
   */
  async checkNamespace(): Promise<void> {
    const core = this.kc.makeApiClient(this.k8s.CoreV1Api);
    await this.call(
      `read namespace "${this.namespace}"`,
      () => core.readNamespace({ name: this.namespace }),
      {
        notFound: () =>
          new BerthError(
            'NAMESPACE_NOT_FOUND',
            `Namespace "${this.namespace}" does not exist in cluster "${this.server}" (context "${this.context}").`,
            {
              hint: `Create it (kubectl create namespace ${this.namespace}) or pass --namespace with an existing one.`,
            },
          ),
      },
    );
  }

  /** Server-side apply of each object, in order (field manager `berth`, conflicts forced). */
  async apply(objects: readonly KubeObject[]): Promise<void> {
    const api = this.objectApi();
    for (const obj of objects) {
      await this.call(`apply ${obj.kind} "${obj.metadata?.name}"`, () =>
        api.patch(
          obj as never,
          undefined,
          undefined,
          FIELD_MANAGER,
          true,
          this.k8s.PatchStrategy.ServerSideApply,
        ),
      );
    }
  }

  /** The Deployment, or undefined when it does not exist. */
  async readDeployment(name: string): Promise<IDeployment | undefined> {
    const apps = this.kc.makeApiClient(this.k8s.AppsV1Api);
    const d = await this.call(
      `read Deployment "${name}"`,
      () => apps.readNamespacedDeployment({ name, namespace: this.namespace }),
      {
        notFound: () => undefined,
      },
    );
    return d as IDeployment | undefined;
  }

  async listPods(labelSelector: string): Promise<IPod[]> {
    const core = this.kc.makeApiClient(this.k8s.CoreV1Api);
    const list = await this.call('list pods', () =>
      core.listNamespacedPod({ namespace: this.namespace, labelSelector }),
    );
    return (list.items ?? []) as IPod[];
  }

  /** The log of one container of a pod; empty when it has not started. */
  async podLog(pod: string, container: string, tailLines?: number): Promise<string> {
    const core = this.kc.makeApiClient(this.k8s.CoreV1Api);
    const text = await this.call(
      `read the log of ${pod}/${container}`,
      () => core.readNamespacedPodLog({ name: pod, namespace: this.namespace, container, tailLines }),
      { notFound: () => '', badRequest: () => '' },
    );
    return text ?? '';
  }

  /**
   * Deletes every object of the owned kinds matching the selector (only those named in `only`,
   * as `Kind/name`, when given); returns `Kind/name` of each deleted one.
   */
  async deleteSelected(labelSelector: string, only?: readonly string[]): Promise<string[]> {
    const api = this.objectApi();
    const deleted: string[] = [];
    for (const { apiVersion, kind } of OWNED_KINDS) {
      if (only && !only.some((k) => k.startsWith(`${kind}/`))) continue;
      const list = await this.call(`list ${kind}s`, () =>
        api.list(apiVersion, kind, this.namespace, undefined, undefined, undefined, undefined, labelSelector),
      );
      for (const item of list.items ?? []) {
        const name = item.metadata?.name;
        if (!name || (only && !only.includes(`${kind}/${name}`))) continue;
        await this.call(
          `delete ${kind} "${name}"`,
          () =>
            api.delete(
              { apiVersion, kind, metadata: { name, namespace: this.namespace } },
              undefined,
              undefined,
              undefined,
              undefined,
              'Foreground',
            ),
          { notFound: () => undefined },
        );
        deleted.push(`${kind}/${name}`);
      }
    }
    return deleted;
  }

  private objectApi() {
    return this.k8s.KubernetesObjectApi.makeApiClient(this.kc);
  }

  private async call<T, F = never>(
    what: string,
    fn: () => Promise<T>,
    on: { notFound?: () => F | BerthError; badRequest?: () => F } = {},
  ): Promise<T | F> {
    try {
      return await fn();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (err instanceof this.k8s.ApiException || typeof code === 'number') {
        const status = code as number;
        const body = (err as { body?: unknown }).body;
        const reason = apiMessage(body);
        if (status === 404 && on.notFound) {
          const r = on.notFound();
          if (r instanceof BerthError) throw r;
          return r as F;
        }
        if (status === 400 && on.badRequest) return on.badRequest();
        if (status === 401 || status === 403) {
          throw new BerthError(
            'CLUSTER_FORBIDDEN',
            `Cluster "${this.server}" refused to ${what} in namespace "${this.namespace}" (HTTP ${status}): ${reason}`,
            {
              hint: `Give the context "${this.context}" RBAC rights on Deployments, Services, HorizontalPodAutoscalers, Secrets, ConfigMaps and pods/log in "${this.namespace}".`,
              cause: err,
            },
          );
        }
        if (status === 404 && /namespaces? "?[^"]*"? not found/i.test(reason)) {
          throw new BerthError(
            'NAMESPACE_NOT_FOUND',
            `Namespace "${this.namespace}" does not exist in cluster "${this.server}".`,
            {
              hint: `Create it (kubectl create namespace ${this.namespace}) or attach the compute with another --namespace.`,
              cause: err,
            },
          );
        }
        throw new BerthError(
          'CLUSTER_REQUEST_FAILED',
          `Cluster "${this.server}" failed to ${what} (HTTP ${status}): ${reason}`,
          {
            hint: 'Read the message; "berth service manifest NAME" shows the objects Berth applies.',
            cause: err,
          },
        );
      }
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new BerthError(
        'CLUSTER_UNREACHABLE',
        `Cannot reach the Kubernetes API server "${this.server}" to ${what}: ${cause?.code ?? cause?.message ?? (err as Error).message}.`,
        {
          hint: `Check that the cluster runs and the kubeconfig's context "${this.context}" points at it (kubectl cluster-info).`,
          cause: err,
        },
      );
    }
  }
}

function apiMessage(body: unknown): string {
  if (typeof body === 'string') {
    try {
      return apiMessage(JSON.parse(body));
    } catch {
      return body.slice(0, 500);
    }
  }
  const msg = (body as { message?: unknown } | undefined)?.message;
  return typeof msg === 'string' ? msg : JSON.stringify(body ?? '').slice(0, 500);
}
