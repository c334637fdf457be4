import { BerthError } from '../core/errors.js';
import type { DashboardServices, DashboardServiceTarget } from './dashboard-services.js';

/** Which of the service's keys a forwarded request carries. */
export type ForwardKey = 'primary' | 'secondary' | 'none';

/** A service's answer, as received by the control plane. */
export interface ForwardedAnswer {
  status: number;
  contentType: string;
  requestId: string | undefined;
  body: Buffer;
  /** Time from sending the request to the service until its whole answer arrived (ms). */
  serviceMs: number;
}

/** Margin over the service's own scoring timeout, so the service answers its 504 itself. */
const TIMEOUT_MARGIN_MS = 5_000;

/**
 * Sends requests to a service's data plane from the control plane, with the service's key, so
 * the dashboard never needs CORS on the services nor the keys in scripts it does not own.
 */
export class ServiceForwarder {
  constructor(private readonly services: DashboardServices) {}

  /** @throws SERVICE_NOT_FOUND, NOT_READY (the service does not answer), TIMEOUT */
  async forward(
    name: string,
    path: '/score' | '/swagger.json' | '/metrics',
    init: { method: 'GET' | 'POST'; key: ForwardKey; body?: Buffer; contentType?: string },
  ): Promise<ForwardedAnswer> {
    const service = this.services.get(name);
    const url = new URL(path, service.scoringUri);
    const headers: Record<string, string> = {};
    if (init.contentType) headers['content-type'] = init.contentType;
    if (service.authEnabled && init.key !== 'none') {
      const keys = this.services.keys(name);
      headers.authorization = `Bearer ${init.key === 'secondary' ? keys.secondaryKey : keys.primaryKey}`;
    }
    const timeoutMs = (service.deploymentConfig.scoringTimeoutMs ?? 60_000) + TIMEOUT_MARGIN_MS;
    const t0 = performance.now();
    try {
      const res = await fetch(url, {
        method: init.method,
        headers,
        // A view on the same bytes (no copy); the DOM lib's BodyInit does not list Buffer.
        body: init.body
          ? (new Uint8Array(
              init.body.buffer,
              init.body.byteOffset,
              init.body.byteLength,
            ) as Uint8Array<ArrayBuffer>)
          : undefined,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const body = Buffer.from(await res.arrayBuffer());
      return {
        status: res.status,
        contentType: res.headers.get('content-type') ?? 'application/octet-stream',
        requestId: res.headers.get('x-request-id') ?? undefined,
        body,
        serviceMs: performance.now() - t0,
      };
    } catch (err) {
      throw unreachable(service, url, timeoutMs, err);
    }
  }
}

function unreachable(service: DashboardServiceTarget, url: URL, timeoutMs: number, err: unknown): BerthError {
  const name = (err as { name?: string })?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new BerthError(
      'TIMEOUT',
      `Service "${service.name}" did not answer ${url.pathname} within ${timeoutMs} ms.`,
      {
        hint: `See its log: berth service logs ${service.name}`,
        cause: err,
      },
    );
  }
  return new BerthError(
    'NOT_READY',
    `Service "${service.name}" does not answer at ${url.origin} (its state is ${service.state}).`,
    {
      hint: `Wait until it is Healthy, or see why not: berth service logs ${service.name}`,
      cause: err,
    },
  );
}
