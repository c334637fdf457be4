import type { FastifyInstance, FastifyReply } from 'fastify';
import type { DashboardServices } from './dashboard-services.js';
import { MetricsHistory, type MetricsHistoryOptions } from './metrics-history.js';
import { type ForwardedAnswer, type ForwardKey, ServiceForwarder } from './service-forwarder.js';

const nameParam = { type: 'object', properties: { name: { type: 'string' } } } as const;

/** Header on answers that come from the service itself (so a 401 there is not the API token's). */
export const UPSTREAM_HEADER = 'x-berth-upstream';
/** Header with the ms the service took, measured by the control plane next to it. */
export const SERVICE_MS_HEADER = 'x-berth-service-ms';

function relay(reply: FastifyReply, answer: ForwardedAnswer): FastifyReply {
  const ms = Math.round(answer.serviceMs * 100) / 100;
  reply
    .status(answer.status)
    .type(answer.contentType)
    .header(UPSTREAM_HEADER, 'service')
    .header(SERVICE_MS_HEADER, String(ms));
  reply.header('server-timing', `service;dur=${ms}`);
  if (answer.requestId) reply.header('x-request-id', answer.requestId);
  return reply.send(answer.body);
}

/**
 * Management API routes that reach a service's data plane through the control plane (same
 * origin as the dashboard, Bearer token of the API, the service's key added here):
 * score, its OpenAPI document, its raw metrics and their recent history.
 * Must be registered in an encapsulated context: it takes every request body as raw bytes.
 */
export function registerServiceProxyRoutes(
  app: FastifyInstance,
  services: DashboardServices,
  historyOptions: MetricsHistoryOptions = {},
): void {
  const forwarder = new ServiceForwarder(services);
  const history = new MetricsHistory(async (name) => {
    const answer = await forwarder.forward(name, '/metrics', { method: 'GET', key: 'primary' });
    if (answer.status !== 200) throw new Error(`GET /metrics answered HTTP ${answer.status}`);
    return answer.body.toString('utf8');
  }, historyOptions);

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.post<{ Params: { name: string }; Querystring: { key?: ForwardKey } }>(
    '/api/services/:name/score',
    {
      schema: {
        summary:
          "Score through the control plane: forwards the body to the service's POST /score with its key (primary unless ?key=secondary|none) and relays the answer; x-berth-service-ms tells how long the service took.",
        tags: ['services'],
        params: nameParam,
        querystring: {
          type: 'object',
          properties: { key: { type: 'string', enum: ['primary', 'secondary', 'none'] } },
        },
      },
    },
    async (request, reply) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const answer = await forwarder.forward(request.params.name, '/score', {
        method: 'POST',
        key: request.query.key ?? 'primary',
        body,
        contentType: request.headers['content-type'] ?? 'application/json',
      });
      return relay(reply, answer);
    },
  );

  app.get<{ Params: { name: string } }>(
    '/api/services/:name/swagger.json',
    {
      schema: {
        summary: "The service's OpenAPI document (its swaggerUri), through the control plane.",
        tags: ['services'],
        params: nameParam,
      },
    },
    async (request, reply) =>
      relay(
        reply,
        await forwarder.forward(request.params.name, '/swagger.json', { method: 'GET', key: 'primary' }),
      ),
  );

  app.get<{ Params: { name: string } }>(
    '/api/services/:name/metrics',
    {
      schema: {
        summary: "The service's Prometheus metrics, through the control plane.",
        tags: ['services'],
        params: nameParam,
      },
    },
    async (request, reply) =>
      relay(
        reply,
        await forwarder.forward(request.params.name, '/metrics', { method: 'GET', key: 'primary' }),
      ),
  );

  app.get<{ Params: { name: string } }>(
    '/api/services/:name/metrics/history',
    {
      schema: {
        summary:
          'Requests/s, p50/p99 latency, errors/s and replicas of the service over the last minutes (sampled from its /metrics while someone asks; scoring routes only).',
        tags: ['services'],
        params: nameParam,
      },
    },
    async (request) => {
      try {
        services.get(request.params.name);
      } catch (err) {
        history.forget(request.params.name);
        throw err;
      }
      return history.read(request.params.name);
    },
  );
}
