/** An error answer of the management API: `{"error": {"code", "message", "hint"}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** The API refused the token (or there is none): the dashboard asks for it again. */
export class TokenRefusedError extends ApiError {}

/** What a scoring request through the control plane gave. */
export interface ScoreResult {
  status: number;
  /** The answer came from the service (not an error of the control plane). */
  fromService: boolean;
  contentType: string;
  text: string;
  /** Browser → control plane → service → back (ms). */
  roundTripMs: number;
  /** Control plane → service → back, measured next to the service (ms); null when not reached. */
  serviceMs: number | null;
}

function toApiError(status: number, body: unknown): ApiError {
  const e = (body as { error?: { code?: string; message?: string; hint?: string } } | null)?.error;
  if (e && typeof e === 'object')
    return new ApiError(status, e.code ?? 'ERROR', e.message ?? `HTTP ${status}`, e.hint);
  return new ApiError(status, 'HTTP_ERROR', `The control plane answered HTTP ${status}.`);
}

/**
 * Calls the management API of the page's own origin with `Authorization: Bearer <token>`.
 * A 401 of the API itself (not one relayed from a service) calls `onRefused` and throws
 * TokenRefusedError.
 */
export class ApiClient {
  constructor(
    private readonly token: () => string | null,
    private readonly onRefused: () => void,
  ) {}

  private async send(method: string, path: string, body?: BodyInit, contentType?: string): Promise<Response> {
    const token = this.token();
    if (!token) {
      this.onRefused();
      throw new TokenRefusedError(401, 'UNAUTHORIZED', 'No token.');
    }
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (contentType) headers['content-type'] = contentType;
    const res = await fetch(path, { method, headers, body, cache: 'no-store' });
    if (res.status === 401 && !res.headers.has('x-berth-upstream')) {
      this.onRefused();
      throw new TokenRefusedError(401, 'UNAUTHORIZED', 'The token was refused.');
    }
    return res;
  }

  /** A JSON route; throws ApiError on an error answer. */
  async json<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const res = await this.send(
      method,
      path,
      body === undefined ? undefined : JSON.stringify(body),
      body === undefined ? undefined : 'application/json',
    );
    const text = await res.text();
    let value: unknown = null;
    try {
      value = text ? JSON.parse(text) : null;
    } catch {
      if (res.ok)
        throw new ApiError(
          res.status,
          'BAD_ANSWER',
          'The control plane answered something that is not JSON.',
        );
    }
    if (!res.ok) throw toApiError(res.status, value);
    return value as T;
  }

  /** A text route (logs, metrics); throws ApiError on an error answer. */
  async text(path: string): Promise<string> {
    const res = await this.send('GET', path);
    const text = await res.text();
    if (!res.ok) {
      let body: unknown = null;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON
      }
      throw toApiError(res.status, body);
    }
    return text;
  }

  /** Scores through `POST /api/services/{name}/score` with the chosen key; never throws on an HTTP status. */
  async score(
    name: string,
    body: string,
    contentType: string,
    key: 'primary' | 'secondary' | 'none',
  ): Promise<ScoreResult> {
    const t0 = performance.now();
    const res = await this.send(
      'POST',
      `/api/services/${encodeURIComponent(name)}/score?key=${key}`,
      body,
      contentType,
    );
    const text = await res.text();
    const roundTripMs = performance.now() - t0;
    const serviceMs = res.headers.get('x-berth-service-ms');
    return {
      status: res.status,
      fromService: res.headers.has('x-berth-upstream'),
      contentType: res.headers.get('content-type') ?? '',
      text,
      roundTripMs,
      serviceMs: serviceMs === null ? null : Number(serviceMs),
    };
  }
}
