import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type DashboardAsset, loadDashboardAssets } from './dashboard-assets.js';
import type { DashboardServices } from './dashboard-services.js';
import type { MetricsHistoryOptions } from './metrics-history.js';
import { registerServiceProxyRoutes } from './service-proxy-routes.js';

export interface DashboardOptions {
  /** The control plane (anything with `get(name)` and `keys(name)` of services). */
  services: DashboardServices;
  /** Sampling of the charts' metrics (defaults: every 2 s while watched, 10 min kept). */
  metrics?: MetricsHistoryOptions;
}

/** The page may load its own files and call its own origin, nothing else (no CDN, no inline code). */
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

function sendAsset(request: FastifyRequest, reply: FastifyReply, file: DashboardAsset): FastifyReply {
  reply
    .header('content-type', file.contentType)
    .header('cache-control', 'no-cache')
    .header('etag', file.etag)
    .header('vary', 'accept-encoding')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer');
  if (file.contentType.startsWith('text/html')) {
    reply.header('content-security-policy', CONTENT_SECURITY_POLICY).header('x-frame-options', 'DENY');
  }
  if (request.headers['if-none-match'] === file.etag) return reply.status(304).send();
  if (/\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))) {
    return reply.header('content-encoding', 'gzip').send(file.gzip);
  }
  return reply.send(file.body);
}

/**
 * Serves the web dashboard on the management API's server: the static shell at `/` and its
 * files under `/ui/` (no token needed: they hold no workspace data), plus the API routes the
 * dashboard needs that reach services (score, OpenAPI document, metrics; token needed like
 * every API route). Call it after the API's Bearer auth hook is installed and before `ready()`.
 * The auth hook must let `/` and `/ui/*` through.
 * @example registerDashboard(app, { services: controlPlane })
 */
export function registerDashboard(app: FastifyInstance, options: DashboardOptions): void {
  const assets = loadDashboardAssets();
  for (const [path, file] of assets.files) {
    app.get(path, { schema: { hide: true } }, async (request, reply) => sendAsset(request, reply, file));
  }
  app.register(async (scope) => registerServiceProxyRoutes(scope, options.services, options.metrics));
}
