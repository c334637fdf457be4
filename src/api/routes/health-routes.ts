import type { FastifyInstance } from 'fastify';

/** `GET /api/health` (no token): lets clients tell a live control plane from a stale control-plane.json. */
export function registerHealthRoutes(
  app: FastifyInstance,
  facts: { version: string; workspace: string },
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
    async () => ({ ok: true, pid: process.pid, version: facts.version, workspace: facts.workspace }),
  );
}
