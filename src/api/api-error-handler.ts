import type { FastifyError, FastifyInstance } from 'fastify';
import { BerthError, toBerthError } from '../core/errors.js';

/** Maps a thrown value (BerthError, fastify's own errors) onto one BerthError with its catalogue status. */
export function toApiError(err: unknown): BerthError {
  if (err instanceof BerthError) return err;
  const f = err as Partial<FastifyError> & { validation?: unknown };
  if (f.validation) {
    return new BerthError('INVALID_ARGUMENT', `Invalid request: ${f.message}.`, {
      hint: 'See /api/openapi.json for the request shapes.',
    });
  }
  if (f.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new BerthError('BODY_TOO_LARGE', 'The request body is larger than the API accepts.', {
      hint: 'Upload model files with POST /api/uploads (streamed, no size limit).',
    });
  }
  if (typeof f.statusCode === 'number' && f.statusCode >= 400 && f.statusCode < 500) {
    return new BerthError('INVALID_ARGUMENT', f.message ?? 'Bad request.');
  }
  return toBerthError(err);
}

/** Every error leaves as `{"error": {"code", "message", "hint"?, "details"?}}` with the catalogue's status. */
export function installApiErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const e = toApiError(err);
    if (e.code === 'INTERNAL') request.log.error({ err }, 'internal error');
    void reply.status(e.status).type('application/json').send({ error: e.toJSON() });
  });
  app.setNotFoundHandler((request, reply) => {
    const e = new BerthError('ROUTE_NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}.`, {
      hint: 'See /api/openapi.json for the routes.',
    });
    void reply.status(e.status).send({ error: e.toJSON() });
  });
}
