import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';

/** One request the fake API server received. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType?: string;
  body?: unknown;
}

type Obj = {
  apiVersion: string;
  kind: string;
  metadata: Record<string, unknown> & {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    generation?: number;
  };
  [k: string]: unknown;
};

const RESOURCES: Record<string, { group: string; kind: string; apiVersion: string }> = {
  configmaps: { group: '/api/v1', kind: 'ConfigMap', apiVersion: 'v1' },
  secrets: { group: '/api/v1', kind: 'Secret', apiVersion: 'v1' },
  services: { group: '/api/v1', kind: 'Service', apiVersion: 'v1' },
  pods: { group: '/api/v1', kind: 'Pod', apiVersion: 'v1' },
  deployments: { group: '/apis/apps/v1', kind: 'Deployment', apiVersion: 'apps/v1' },
  horizontalpodautoscalers: {
    group: '/apis/autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    apiVersion: 'autoscaling/v2',
  },
};

function discovery(group: string) {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group.replace(/^\/apis?\//, ''),
    resources: Object.entries(RESOURCES)
      .filter(([, r]) => r.group === group)
      .map(([name, r]) => ({
        name,
        singularName: r.kind.toLowerCase(),
        namespaced: true,
        kind: r.kind,
        verbs: ['get', 'list', 'patch', 'delete'],
      }))
      .concat(
        group === '/api/v1'
          ? [
              {
                name: 'namespaces',
                singularName: 'namespace',
                namespaced: false,
                kind: 'Namespace',
                verbs: ['get'],
              },
            ]
          : [],
      ),
  };
}

function status(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, code };
}

/**
 * A small stand-in for the Kubernetes API server: the discovery, namespace, apply (PATCH),
 * get, list (label selectors), delete and pod log paths Berth uses, keeping objects in memory
 * and recording every request. Not a cluster: no controllers run; tests set status by hand.
 */
export class FakeKubeApi {
  readonly requests: RecordedRequest[] = [];
  readonly objects = new Map<string, Obj>();
  namespaces = new Set(['default', 'ml']);
  /** When set, every request is answered 403 with this message. */
  forbidden?: string;
  logs = new Map<string, string>();
  private server = http.createServer((req, res) => this.handle(req, res));
  url = '';

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  /** Writes a kubeconfig for this server (contexts `test` → namespace ml, and `other`). */
  writeKubeconfig(dir: string, server = this.url): string {
    const file = join(dir, 'kubeconfig.yaml');
    writeFileSync(
      file,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'fake', cluster: { server, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'tester', user: { token: 'test-token' } }],
        contexts: [
          { name: 'test', context: { cluster: 'fake', user: 'tester', namespace: 'ml' } },
          { name: 'other', context: { cluster: 'fake', user: 'tester' } },
        ],
        'current-context': 'test',
      }),
    );
    return file;
  }

  key(resource: string, ns: string, name: string): string {
    return `${resource}/${ns}/${name}`;
  }

  put(resource: string, obj: Obj): void {
    this.objects.set(this.key(resource, obj.metadata.namespace ?? 'default', obj.metadata.name), obj);
  }

  get(resource: string, ns: string, name: string): Obj | undefined {
    return this.objects.get(this.key(resource, ns, name));
  }

  /** Requests other than discovery, as `METHOD path`. */
  calls(): string[] {
    return this.requests
      .filter((r) => !/^\/apis?(\/[a-z.]+)?\/v[0-9]+$/.test(r.path))
      .map((r) => `${r.method} ${r.path}`);
  }

  private send(res: http.ServerResponse, code: number, body: unknown, type = 'application/json') {
    res.writeHead(code, { 'content-type': type });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const rec: RecordedRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        contentType: req.headers['content-type'],
      };
      if (raw) rec.body = JSON.parse(raw);
      this.requests.push(rec);
      if (this.forbidden) {
        return this.send(res, 403, status(403, 'Forbidden', this.forbidden));
      }
      const p = url.pathname;
      if (p === '/api/v1' || p === '/apis/apps/v1' || p === '/apis/autoscaling/v2')
        return this.send(res, 200, discovery(p));
      let m = p.match(/^\/api\/v1\/namespaces\/([^/]+)$/);
      if (m) {
        return this.namespaces.has(m[1])
          ? this.send(res, 200, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: m[1] } })
          : this.send(res, 404, status(404, 'NotFound', `namespaces "${m[1]}" not found`));
      }
      m = p.match(/^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log$/);
      if (m) {
        const text = this.logs.get(`${m[2]}/${url.searchParams.get('container')}`);
        return text === undefined
          ? this.send(res, 400, status(400, 'BadRequest', 'container is waiting to start'))
          : this.send(res, 200, text, 'text/plain');
      }
      m = p.match(/^\/apis?(?:\/[a-z.]+)?\/v[0-9]+\/namespaces\/([^/]+)\/([a-z]+)(?:\/([^/]+))?$/);
      if (!m || !RESOURCES[m[2]]) return this.send(res, 404, status(404, 'NotFound', `no route ${p}`));
      const [, ns, resource, name] = m;
      const r = RESOURCES[resource];
      if (!this.namespaces.has(ns))
        return this.send(res, 404, status(404, 'NotFound', `namespaces "${ns}" not found`));
      if (req.method === 'PATCH' && name) {
        const body = rec.body as Obj;
        const old = this.get(resource, ns, name);
        const changed = JSON.stringify(old?.spec) !== JSON.stringify(body.spec);
        const generation = (old?.metadata.generation ?? 0) + (changed || !old ? 1 : 0);
        const obj: Obj = {
          ...body,
          metadata: { ...body.metadata, namespace: ns, generation, uid: `uid-${name}` },
        };
        if (old?.status) obj.status = old.status;
        this.put(resource, obj);
        return this.send(res, old ? 200 : 201, obj);
      }
      if (req.method === 'GET' && name) {
        const obj = this.get(resource, ns, name);
        return obj
          ? this.send(res, 200, obj)
          : this.send(res, 404, status(404, 'NotFound', `${resource} "${name}" not found`));
      }
      if (req.method === 'GET') {
        const selector = Object.fromEntries(
          (url.searchParams.get('labelSelector') ?? '')
            .split(',')
            .filter(Boolean)
            .map((kv) => kv.split('=') as [string, string]),
        );
        const items = [...this.objects.entries()]
          .filter(([k]) => k.startsWith(`${resource}/${ns}/`))
          .map(([, o]) => o)
          .filter((o) => Object.entries(selector).every(([k, v]) => o.metadata.labels?.[k] === v));
        return this.send(res, 200, { apiVersion: r.apiVersion, kind: `${r.kind}List`, metadata: {}, items });
      }
      if (req.method === 'DELETE' && name) {
        const had = this.objects.delete(this.key(resource, ns, name));
        return had
          ? this.send(res, 200, { kind: 'Status', apiVersion: 'v1', status: 'Success', code: 200 })
          : this.send(res, 404, status(404, 'NotFound', `${resource} "${name}" not found`));
      }
      return this.send(res, 405, status(405, 'MethodNotAllowed', `${req.method} ${p}`));
    });
  }
}
