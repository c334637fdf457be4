import type { FastifyInstance } from 'fastify';
import { BerthError } from '../../core/errors.js';

/**
 * `GET /api/health` (no token): lets clients tell a live control plane from a stale control-plane.json.
 * 503 NOT_READY until the first reconcile pass after a start is done.
 */
export function registerHealthRoutes(
  app: FastifyInstance,
  facts: { version: string; workspace: string; ready: () => boolean },
): void {
  app.get(
    '/api/health',
    {
      schema: {
        summary: 'Liveness of the control plane (no token needed).',
        tags: ['control plane'],
        security: [],
        response: {
          200: {
            type: 'object',
            properties: {
              ok: { type: 'boolean' },
              pid: { type: 'integer' },
              version: { type: 'string' },
              workspace: { type: 'string' },
            },
          },
        },
      },
    },
    async () => {
      if (!facts.ready()) {
        throw new BerthError('NOT_READY', 'The control plane is adopting its services; retry in a moment.');
      }
      return { ok: true, pid: process.pid, version: facts.version, workspace: facts.workspace };
    },
  );
}
