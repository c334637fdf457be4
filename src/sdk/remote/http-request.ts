import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';

export interface HttpResponse {
  status: number;
  headers: IncomingMessage['headers'];
  /** The body, unread. */
  stream: IncomingMessage;
  text(): Promise<string>;
  buffer(): Promise<Buffer>;
}

/**
 * One HTTP request with node:http (no keep-alive), used by the SDK instead of fetch: loading
 * undici costs a CLI call ~0.1 s and its timers keep a short-lived process alive ~0.4 s longer.
 */
export function httpRequestOnce(
  url: URL,
  options: {
    method: string;
    headers?: Record<string, string>;
    body?: Buffer | string | Readable;
    signal?: AbortSignal;
  },
): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      url,
      {
        method: options.method,
        headers: { connection: 'close', ...options.headers },
        signal: options.signal,
      },
      (res) => {
        const buffer = async () => {
          const chunks: Buffer[] = [];
          for await (const chunk of res) chunks.push(chunk as Buffer);
          return Buffer.concat(chunks);
        };
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          stream: res,
          buffer,
          text: async () => (await buffer()).toString('utf8'),
        });
      },
    );
    req.on('error', reject);
    const body = options.body;
    if (body === undefined) req.end();
    else if (typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
    else {
      body.on('error', (err) => req.destroy(err));
      body.pipe(req);
    }
  });
}
