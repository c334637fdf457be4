import type { BerthError } from '../../core/errors.js';
import type { ServedModel } from '../serve-spec.js';
import type { Reply } from './http-reply.js';

/** What a POST route knows about the request it handles. */
export interface PostRequestInfo {
  readonly requestId: string;
  readonly contentType: string | undefined;
  /** V2 routes: the model named in the URL. */
  readonly model?: ServedModel;
}

/**
 * A POST route of the scoring server: `handle` turns the whole body into an answer value, or a
 * promise of one (it may throw BerthErrors, sync or async); the server owns admission, body
 * limits, timeouts, metrics and logging around it.
 */
export interface PostRoute {
  /** Route label for metrics and logs (`/score`, `/v2/models/{name}/infer`). */
  readonly route: string;
  handle(raw: Buffer, info: PostRequestInfo): unknown;
  /** The success reply of a value `handle` resolved to. */
  reply(value: unknown): Reply;
  /** The error reply in this route's format (Berth's or the Open Inference Protocol's). */
  error(err: BerthError, debug: boolean, headers?: Record<string, string>): Reply;
}
