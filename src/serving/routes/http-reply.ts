import type { ServerResponse } from 'node:http';

/** What a route answers: status, body bytes or text, content type and extra headers. */
export interface Reply {
  status: number;
  body: string | Buffer;
  contentType: string;
  headers?: Record<string, string>;
}

export const JSON_TYPE = 'application/json';
export const TEXT_TYPE = 'text/plain; charset=utf-8';

/** A Berth error body: `{"error": {"code", "message"}}` (plus `stack` when debugging). */
export function errorReply(
  status: number,
  code: string,
  message: string,
  extra?: { headers?: Record<string, string>; stack?: string; details?: Record<string, unknown> },
): Reply {
  const error: Record<string, unknown> = { code, message };
  if (extra?.details) error.details = extra.details;
  if (extra?.stack) error.stack = extra.stack;
  return { status, body: JSON.stringify({ error }), contentType: JSON_TYPE, headers: extra?.headers };
}

/** An Open Inference Protocol error body: `{"error": "<message>"}`. */
export function v2ErrorReply(status: number, message: string): Reply {
  return { status, body: JSON.stringify({ error: message }), contentType: JSON_TYPE };
}

export function jsonReply(status: number, value: unknown): Reply {
  return { status, body: JSON.stringify(value) ?? 'null', contentType: JSON_TYPE };
}

/**
 * Writes a reply with Content-Length; `requestId` (when given) as `x-request-id`; `close` adds
 * `Connection: close` (draining, or a body left unread).
 */
export function writeReply(
  res: ServerResponse,
  reply: Reply,
  requestId: string | undefined,
  close: boolean,
): void {
  const headers: Record<string, string | number> = {
    'Content-Type': reply.contentType,
    'Content-Length': typeof reply.body === 'string' ? Buffer.byteLength(reply.body) : reply.body.length,
  };
  if (requestId !== undefined) headers['x-request-id'] = requestId;
  if (reply.headers) Object.assign(headers, reply.headers);
  if (close) headers.Connection = 'close';
  res.writeHead(reply.status, headers);
  res.end(reply.body);
}
