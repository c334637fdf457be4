import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { BerthError } from '../core/errors.js';

/** Routes anyone may call: the health probe, the API description and the dashboard's static shell. */
const PUBLIC_ROUTES = new Set(['/api/health', '/api/openapi.json', '/']);
/** The dashboard's static files (src/ui): no workspace data in them; the page gets data with the token. */
const PUBLIC_PREFIXES = ['/ui/'];

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The token of an `Authorization: Bearer <token>` header, if any. */
function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer\s+(.+)$/i.exec(header ?? '')?.[1]?.trim() || undefined;
}

/** True when the request carries the right token (public routes use it to show more). */
export function hasToken(authorization: string | undefined, token: string): boolean {
  const given = bearerToken(authorization);
  return given !== undefined && sameSecret(given, token);
}

/** Requires `Authorization: Bearer <token>` on every route but the public ones; else 401 UNAUTHORIZED. */
export function installBearerAuth(app: FastifyInstance, token: string): void {
  app.addHook('onRequest', async (request) => {
    const path = request.url.split('?')[0];
    if (PUBLIC_ROUTES.has(path) || PUBLIC_PREFIXES.some((p) => path.startsWith(p))) return;
    const given = bearerToken(request.headers.authorization);
    if (!given) {
      throw new BerthError('UNAUTHORIZED', 'The management API needs "Authorization: Bearer <token>".', {
        hint: 'The token is in <workspace>/control-plane.json; pass it with --token or BERTH_TOKEN.',
      });
    }
    if (!sameSecret(given, token)) {
      throw new BerthError('UNAUTHORIZED', 'The token is wrong.', {
        hint: 'Use the token of <workspace>/control-plane.json (--token or BERTH_TOKEN).',
      });
    }
  });
}
