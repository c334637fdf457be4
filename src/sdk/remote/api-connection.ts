import type { Readable } from 'node:stream';
import { BerthError } from '../../core/errors.js';
import { type HttpResponse, httpRequestOnce } from './http-request.js';

/** Where a management API is and the token it wants. */
export interface ApiEndpoint {
  url: string;
  token?: string;
}

export interface ApiRequest {
  query?: Record<string, string | number | boolean | string[] | undefined>;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is, with `contentType`. */
  body?: Buffer | Readable;
  contentType?: string;
  signal?: AbortSignal;
}

/**
 * Access to a Berth management API: adds the Bearer token, turns `{"error": {...}}` answers back
 * into the same BerthError the server threw, and an unreachable server into
 * CONTROL_PLANE_UNAVAILABLE. The endpoint is resolved on first use (the embedded client starts its
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

  /** Sends a request; resolves to the response when it succeeded (2xx), its body unread. */
  async send(method: string, path: string, request: ApiRequest = {}): Promise<HttpResponse> {
    const { url, token } = await this.resolve();
    const target = new URL(path, url.endsWith('/') ? url : `${url}/`);
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) target.searchParams.append(key, String(v));
    }
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    let body: Buffer | Readable | undefined = request.body;
    if (request.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = Buffer.from(JSON.stringify(request.json));
    } else if (request.contentType) {
      headers['content-type'] = request.contentType;
    }
    let res: HttpResponse;
    try {
      res = await httpRequestOnce(target, { method, headers, body, signal: request.signal });
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
    if (res.status < 200 || res.status >= 300) throw errorFrom(res.status, await res.text());
    return res;
  }

  /** Sends a request and parses the JSON answer. */
  async json<T>(method: string, path: string, request: ApiRequest = {}): Promise<T> {
    const res = await this.send(method, path, request);
    return JSON.parse(await res.text()) as T;
  }
}

/** Rebuilds the server's BerthError from an error answer. */
export function errorFrom(status: number, text: string): BerthError {
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text for the message
  }
  return BerthError.fromBody(body, status);
}

/** `/api/...` path segment for a name or reference (`iris:1`, `iris@prod`). */
export function segment(value: string): string {
  return encodeURIComponent(value);
}
