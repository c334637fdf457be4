import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import type { ControlPlane } from '../deploy/control-plane.js';
import type { ModelRegistry } from '../registry/model-registry.js';
import type { TempArea } from '../store/temp-area.js';
import { registerDashboard } from '../ui/register-dashboard.js';
import { installApiErrorHandler } from './api-error-handler.js';
import { installBearerAuth } from './bearer-auth.js';
import { registerHealthRoutes } from './routes/health-routes.js';
import { registerModelRoutes } from './routes/model-routes.js';
import { registerServiceRoutes } from './routes/service-routes.js';
import { ERROR_BODY_SCHEMA } from './schemas/api-schemas.js';

export interface ApiServerOptions {
  controlPlane: ControlPlane;
  registry: ModelRegistry;
  temp: TempArea;
  token: string;
  version: string;
  workspaceDir: string;
  /** False while the control plane adopts its services: `/api/health` answers 503 until then. */
  ready?: () => boolean;
}

/**
 * The management REST API (the control plane's HTTP face): models and services, Bearer-token
 * protected, described at `GET /api/openapi.json`. Errors are `{"error": {"code", "message"}}`
 * with the status of src/core/error-catalogue.ts. Does not listen; the caller does.
 */
export async function createApiServer(options: ApiServerOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: 16 * 1024 * 1024 });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Berth management API',
        description:
          'Register models and deploy them as scoring services. Every route but /api/health and /api/openapi.json needs Authorization: Bearer <token> (in <workspace>/control-plane.json).',
        version: options.version,
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
        schemas: { Error: ERROR_BODY_SCHEMA as unknown as Record<string, unknown> },
      },
      security: [{ bearer: [] }],
      tags: [
        { name: 'models', description: 'The model registry' },
        { name: 'services', description: 'Deployed scoring services' },
        { name: 'control plane', description: 'The control plane itself' },
      ],
    },
  });
  installApiErrorHandler(app);
  installBearerAuth(app, options.token);
  registerHealthRoutes(app, {
    version: options.version,
    workspace: options.workspaceDir,
    token: options.token,
    ready: options.ready ?? (() => true),
  });
  registerModelRoutes(app, options.registry, options.temp);
  registerServiceRoutes(app, options.controlPlane);
  registerDashboard(app, { services: options.controlPlane });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.ready();
  return app;
}
