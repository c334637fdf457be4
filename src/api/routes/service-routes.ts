import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { ControlPlane } from '../../deploy/control-plane.js';
import { readLogFrom } from '../../deploy/service-log.js';
import type { DeployServiceRequest, KeyName, UpdateServiceRequest } from '../../deploy/service-requests.js';
import {
  DEPLOY_REQUEST_SCHEMA,
  SERVICE_KEYS_SCHEMA,
  SERVICE_VIEW_SCHEMA,
  UPDATE_REQUEST_SCHEMA,
} from '../schemas/api-schemas.js';

const nameParam = { type: 'object', properties: { name: { type: 'string' } } } as const;

/** Follows a log file like `tail -f`: whole lines as they are appended, until the client goes away. */
function followLog(file: string, offset: number, initial: string, pollMs = 200): Readable {
  let timer: NodeJS.Timeout | undefined;
  let first = initial;
  return new Readable({
    read() {
      if (first) {
        this.push(first);
        first = '';
        return;
      }
      const poll = () => {
        const next = readLogFrom(file, offset);
        offset = next.offset;
        if (next.text) this.push(next.text);
        else timer = setTimeout(poll, pollMs);
      };
      poll();
    },
    destroy(err, cb) {
      if (timer) clearTimeout(timer);
      cb(err);
    },
  });
}

/** Service routes mirroring the SDK's Webservice verbs and `berth service ...`. */
export function registerServiceRoutes(app: FastifyInstance, controlPlane: ControlPlane): void {
  app.get(
    '/api/services',
    {
      schema: {
        summary: 'List services.',
        tags: ['services'],
        response: { 200: { type: 'array', items: SERVICE_VIEW_SCHEMA } },
      },
    },
    async () => controlPlane.list(),
  );

  app.post<{ Body: DeployServiceRequest }>(
    '/api/services',
    {
      bodyLimit: 256 * 1024 * 1024,
      schema: {
        summary:
          'Deploy models as a new service; answers at once (state Transitioning), poll GET until Healthy or Failed.',
        tags: ['services'],
        body: DEPLOY_REQUEST_SCHEMA,
        response: { 202: SERVICE_VIEW_SCHEMA },
      },
    },
    async (request, reply) => reply.status(202).send(await controlPlane.deploy(request.body)),
  );

  app.get<{ Params: { name: string } }>(
    '/api/services/:name',
    {
      schema: {
        summary: 'Show a service.',
        tags: ['services'],
        params: nameParam,
        response: { 200: SERVICE_VIEW_SCHEMA },
      },
    },
    async (request) => controlPlane.get(request.params.name),
  );

  const update = {
    bodyLimit: 256 * 1024 * 1024,
    schema: {
      summary:
        'Rolling update: each part given replaces the current one; answers at once. Poll GET until observedGeneration reaches the returned generation; lastUpdate tells the outcome.',
      tags: ['services'],
      params: nameParam,
      body: UPDATE_REQUEST_SCHEMA,
      response: { 202: SERVICE_VIEW_SCHEMA },
    },
  };
  app.post<{ Params: { name: string }; Body: UpdateServiceRequest }>(
    '/api/services/:name/update',
    update,
    async (request, reply) =>
      reply.status(202).send(await controlPlane.update(request.params.name, request.body)),
  );
  app.patch<{ Params: { name: string }; Body: UpdateServiceRequest }>(
    '/api/services/:name',
    update,
    async (request, reply) =>
      reply.status(202).send(await controlPlane.update(request.params.name, request.body)),
  );

  app.delete<{ Params: { name: string } }>(
    '/api/services/:name',
    {
      schema: {
        summary: 'Delete a service: its replicas drain in-flight requests and stop; answers once it is gone.',
        tags: ['services'],
        params: nameParam,
        response: {
          200: { type: 'object', properties: { name: { type: 'string' }, deleted: { type: 'boolean' } } },
        },
      },
    },
    async (request) => {
      await controlPlane.delete(request.params.name);
      return { name: request.params.name, deleted: true };
    },
  );

  app.get<{ Params: { name: string }; Querystring: { tail?: number; follow?: boolean } }>(
    '/api/services/:name/logs',
    {
      schema: {
        summary:
          "The service's log (JSON lines of the replicas and of the control plane), as text; follow=true streams new lines.",
        tags: ['services'],
        params: nameParam,
        querystring: {
          type: 'object',
          properties: { tail: { type: 'integer', minimum: 0 }, follow: { type: 'boolean' } },
        },
      },
    },
    async (request, reply) => {
      const text = await controlPlane.logs(request.params.name, request.query.tail);
      reply.type('text/plain; charset=utf-8');
      if (!request.query.follow) return reply.send(text);
      const file = controlPlane.logFile(request.params.name);
      const start = readLogFrom(file, 0).offset;
      const stream = followLog(file, start, text);
      request.raw.on('close', () => stream.destroy());
      return reply.send(stream);
    },
  );

  app.get<{ Params: { name: string } }>(
    '/api/services/:name/keys',
    {
      schema: {
        summary: "The service's keys (Bearer keys when authEnabled).",
        tags: ['services'],
        params: nameParam,
        response: { 200: SERVICE_KEYS_SCHEMA },
      },
    },
    async (request) => controlPlane.keys(request.params.name),
  );

  app.post<{ Params: { name: string }; Body: { key: KeyName } }>(
    '/api/services/:name/keys/regenerate',
    {
      schema: {
        summary:
          'Replace the primary or the secondary key (applied by a rolling update when auth is enabled).',
        tags: ['services'],
        params: nameParam,
        body: {
          type: 'object',
          required: ['key'],
          additionalProperties: false,
          properties: { key: { type: 'string', enum: ['primary', 'secondary'] } },
        },
        response: {
          200: {
            type: 'object',
            properties: { ...SERVICE_KEYS_SCHEMA.properties, service: SERVICE_VIEW_SCHEMA },
          },
        },
      },
    },
    async (request) => {
      const { keys, service } = controlPlane.regenerateKey(request.params.name, request.body.key);
      return { ...keys, service };
    },
  );
}
