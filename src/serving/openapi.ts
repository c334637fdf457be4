import type { TensorMetadata } from './runtime.js';
import type { JsonSchema } from './schema-from-sample.js';

export interface OpenApiOptions {
  /** Service name. */
  title: string;
  /** Document version (the served models' name:version list). */
  version: string;
  description?: string;
  /** Request body schema of POST /score; absent = any JSON. */
  input?: JsonSchema;
  /** Response body schema of POST /score; absent = any JSON. */
  output?: JsonSchema;
  authEnabled: boolean;
  /** V2 tensor metadata, shown under `x-tensors` of /score and on the V2 infer route. */
  tensors?: { inputs: TensorMetadata[]; outputs: TensorMetadata[] };
}

const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
};

const V2_TENSOR: JsonSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    shape: { type: 'array', items: { type: 'integer' } },
    datatype: { type: 'string' },
    data: { type: 'array', items: {} },
  },
  required: ['name', 'shape', 'datatype', 'data'],
};

function errorResponse(description: string): object {
  return {
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorResponse' } } },
  };
}

/**
 * The OpenAPI 3 document of one scoring service (`GET /swagger.json`): POST /score with the
 * input/output schemas (from samples, JSON Schemas or ONNX metadata), health routes, metrics and
 * the Open Inference Protocol's infer route.
 */
export function buildOpenApiDocument(options: OpenApiOptions): Record<string, unknown> {
  const input = options.input ?? {};
  const output = options.output ?? {};
  const security = options.authEnabled ? [{ bearerAuth: [] }] : [];
  const scoreResponses: Record<string, object> = {
    '200': { description: 'Scoring result', content: { 'application/json': { schema: output } } },
    '400': errorResponse('Malformed JSON, or the body does not match the input schema (BAD_REQUEST)'),
    '413': errorResponse('Request body larger than the limit (BODY_TOO_LARGE)'),
    '500': errorResponse('The entry script failed (SCORING_FAILED)'),
    '503': errorResponse('Too many requests in flight (OVERLOADED); see Retry-After'),
    '504': errorResponse('Scoring took longer than scoringTimeoutMs (SCORING_TIMEOUT)'),
  };
  if (options.authEnabled) scoreResponses['401'] = errorResponse('Missing or wrong key (UNAUTHORIZED)');
  const scoreOperation: Record<string, unknown> = {
    operationId: 'score',
    summary: 'Score input data',
    description:
      'Runs the model on the posted JSON (or raw bytes with Content-Type application/octet-stream).',
    security,
    requestBody: {
      required: true,
      content: {
        'application/json': { schema: input },
        'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
      },
    },
    responses: scoreResponses,
  };
  if (options.tensors) scoreOperation['x-tensors'] = options.tensors;
  const health = (summary: string) => ({
    get: {
      summary,
      security: [],
      responses: { '200': { description: 'OK' }, '503': { description: 'Not ready' } },
    },
  });
  const modelName = { name: 'name', in: 'path', required: true, schema: { type: 'string' } };
  return {
    openapi: '3.0.3',
    info: {
      title: options.title,
      version: options.version,
      description: options.description ?? `Scoring service "${options.title}" served by Berth.`,
    },
    paths: {
      '/': {
        get: {
          summary: 'Liveness',
          security: [],
          responses: {
            '200': { description: 'Healthy', content: { 'text/plain': { schema: { type: 'string' } } } },
          },
        },
      },
      '/score': { post: scoreOperation },
      '/health/live': health('Liveness'),
      '/health/ready': health('Readiness: 200 once every replica finished init()'),
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          security,
          responses: { '200': { description: 'Prometheus text format', content: { 'text/plain': {} } } },
        },
      },
      '/v2/models/{name}/infer': {
        post: {
          summary: 'Open Inference Protocol (KServe V2) inference',
          security,
          parameters: [modelName],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    id: { type: 'string' },
                    inputs: { type: 'array', items: V2_TENSOR },
                    outputs: {
                      type: 'array',
                      items: { type: 'object', properties: { name: { type: 'string' } } },
                    },
                  },
                  required: ['inputs'],
                },
              },
            },
          },
          responses: {
            '200': { description: 'Inference response' },
            '400': {
              description: 'Bad request',
              content: {
                'application/json': { schema: { type: 'object', properties: { error: { type: 'string' } } } },
              },
            },
          },
        },
      },
    },
    components: {
      schemas: { ServiceInput: input, ServiceOutput: output, ErrorResponse: ERROR_SCHEMA },
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } },
    },
    ...(options.authEnabled ? { security: [{ bearerAuth: [] }] } : {}),
  };
}
