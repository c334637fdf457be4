import type { FastifyInstance } from 'fastify';
import { BerthError } from '../../core/errors.js';
import { hasToken } from '../bearer-auth.js';

/**
 * `GET /api/health` (no token): lets clients tell a live control plane from a stale control-plane.json.
 * 503 NOT_READY until the first reconcile pass after a start is done. The workspace folder is shown
 * only to a request with the token (a path of this machine is not for anyone who can reach the port).
 */
export function registerHealthRoutes(
  app: FastifyInstance,
  facts: { version: string; workspace: string; token: string; ready: () => boolean },
): void {
  app.get(
    '/api/health',
    {
      schema: {
        summary:
          'Liveness of the control plane (no token needed; with the token it also names the workspace).',
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
    async (request) => {
      if (!facts.ready()) {
        throw new BerthError('NOT_READY', 'The control plane is adopting its services; retry in a moment.');
      }
      const health = { ok: true, pid: process.pid, version: facts.version };
      return hasToken(request.headers.authorization, facts.token)
        ? { ...health, workspace: facts.workspace }
        : health;
    },
  );
}
