import { BerthError } from '../../core/errors.js';

/** Where a management API is and the token it wants. */
export interface ApiEndpoint {
  url: string;
  token?: string;
}

export interface ApiRequest {
  query?: Record<string, string | number | boolean | string[] | undefined>;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is (a stream needs `contentType`). */
  body?: BodyInit;
  contentType?: string;
  signal?: AbortSignal;
}

/**
 * fetch-based access to a Berth management API: adds the Bearer token, turns `{"error": {...}}`
 * answers back into the same BerthError the server threw, and an unreachable server into
 * CONTROL_PLANE_UNAVAILABLE. `endpoint` is resolved on first use (the embedded client starts its
 * local control plane there).
 */
export class ApiConnection {
  private endpoint?: Promise<ApiEndpoint>;

  constructor(private readonly resolveEndpoint: () => Promise<ApiEndpoint>) {}

  /** The endpoint, resolved once (again after a failure). */
  async resolve(): Promise<ApiEndpoint> {
    this.endpoint ??= this.resolveEndpoint();
    try {
      return await this.endpoint;
    } catch (err) {
      this.endpoint = undefined;
      throw err;
    }
  }

  /** Sends a request; resolves to the raw Response when it succeeded (2xx). */
  async fetch(method: string, path: string, request: ApiRequest = {}): Promise<Response> {
    const { url, token } = await this.resolve();
    const target = new URL(path, url.endsWith('/') ? url : `${url}/`);
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) target.searchParams.append(key, String(v));
    }
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    let body = request.body;
    if (request.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(request.json);
    } else if (request.contentType) {
      headers['content-type'] = request.contentType;
    }
    let res: Response;
    try {
      res = await fetch(target, {
        method,
        headers,
        body,
        signal: request.signal,
        ...(body && typeof body === 'object' && 'getReader' in body ? { duplex: 'half' } : {}),
      } as RequestInit);
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new BerthError(
        'CONTROL_PLANE_UNAVAILABLE',
        `Cannot reach the Berth API at ${url}: ${(err as Error).message}.`,
        {
          hint: 'Check the URL and that the server runs (berth server status on its machine).',
          cause: err,
        },
      );
    }
    if (!res.ok) throw await errorFrom(res);
    return res;
  }

  /** Sends a request and parses the JSON answer. */
  async json<T>(method: string, path: string, request: ApiRequest = {}): Promise<T> {
    const res = await this.fetch(method, path, request);
    return (await res.json()) as T;
  }
}

async function errorFrom(res: Response): Promise<BerthError> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text for the message
  }
  return BerthError.fromBody(body, res.status);
}

/** `/api/...` path segment for a name or reference (`iris:1`, `iris@prod`). */
export function segment(value: string): string {
  return encodeURIComponent(value);
}
