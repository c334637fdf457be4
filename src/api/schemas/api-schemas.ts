/**
 * JSON Schemas of the management API's bodies, for validation and the OpenAPI document
 * (`/api/openapi.json`). Response objects allow extra properties so new fields never break clients.
 */

export const ERROR_BODY_SCHEMA = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'Stable error code, see docs/errors.md.' },
        message: { type: 'string' },
        hint: { type: 'string' },
        details: { type: 'object', additionalProperties: true },
      },
      additionalProperties: true,
    },
  },
  required: ['error'],
} as const;

const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;

export const MODEL_VERSION_SCHEMA = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'string', description: 'name:version' },
    name: { type: 'string' },
    version: { type: 'integer' },
    sha256: { type: 'string' },
    size: { type: 'integer' },
    fileCount: { type: 'integer' },
    files: {
      type: 'array',
      items: {
        type: 'object',
        properties: { path: { type: 'string' }, sha256: { type: 'string' }, size: { type: 'integer' } },
      },
    },
    tags: stringMap,
    properties: stringMap,
    description: { type: ['string', 'null'] },
    aliases: { type: 'array', items: { type: 'string' } },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

const CONDITION_SCHEMA = {
  type: 'object',
  properties: {
    type: { type: 'string' },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    reason: { type: 'string' },
    message: { type: 'string' },
    at: { type: 'string' },
  },
} as const;

export const SERVICE_VIEW_SCHEMA = {
  type: 'object',
  additionalProperties: true,
  properties: {
    name: { type: 'string' },
    state: { type: 'string', enum: ['Transitioning', 'Healthy', 'Unhealthy', 'Failed', 'Deleting'] },
    scoringUri: { type: 'string' },
    swaggerUri: { type: 'string' },
    models: { type: 'array', items: { type: 'string' }, description: 'name:version ids' },
    computeType: { type: 'string', enum: ['local', 'kubernetes'] },
    runtime: { type: 'string', enum: ['onnx', 'node', 'python'] },
    replicas: { type: 'object', properties: { desired: { type: 'integer' }, ready: { type: 'integer' } } },
    authEnabled: { type: 'boolean' },
    port: { type: 'integer' },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
    error: { type: ['string', 'null'] },
    generation: { type: 'integer' },
    observedGeneration: { type: 'integer' },
    lastUpdate: { type: ['object', 'null'], additionalProperties: true },
    conditions: { type: 'array', items: CONDITION_SCHEMA },
    restarts: { type: 'integer' },
    pid: { type: ['integer', 'null'] },
    dataCollectionDir: { type: ['string', 'null'] },
    tags: stringMap,
    properties: stringMap,
    description: { type: ['string', 'null'] },
    inferenceConfig: { type: 'object', additionalProperties: true },
    deploymentConfig: { type: 'object', additionalProperties: true },
  },
} as const;

export const SERVICE_KEYS_SCHEMA = {
  type: 'object',
  required: ['primaryKey', 'secondaryKey'],
  properties: { primaryKey: { type: 'string' }, secondaryKey: { type: 'string' } },
} as const;

const SOURCE_BUNDLE_SCHEMA = {
  type: 'object',
  description:
    "The entry script's code, uploaded by a remote client; paths of the inference config under `root` move there.",
  required: ['root', 'files'],
  additionalProperties: false,
  properties: {
    root: { type: 'string' },
    files: {
      type: 'array',
      items: {
        type: 'object',
        required: ['path', 'data'],
        additionalProperties: false,
        properties: { path: { type: 'string' }, data: { type: 'string', description: 'base64' } },
      },
    },
  },
} as const;

export const DEPLOY_REQUEST_SCHEMA = {
  type: 'object',
  required: ['name', 'models'],
  additionalProperties: false,
  properties: {
    name: { type: 'string' },
    models: { type: 'array', items: { type: 'string' }, description: 'NAME, NAME:VERSION or NAME@ALIAS' },
    inferenceConfig: { type: 'object', additionalProperties: true, description: 'inferenceconfig.json' },
    deploymentConfig: { type: 'object', additionalProperties: true, description: 'deploymentconfig.json' },
    source: SOURCE_BUNDLE_SCHEMA,
    compute: {
      type: 'string',
      description: 'computeType kubernetes: the attached compute (default: the only one attached)',
    },
  },
} as const;

export const UPDATE_REQUEST_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    models: DEPLOY_REQUEST_SCHEMA.properties.models,
    inferenceConfig: DEPLOY_REQUEST_SCHEMA.properties.inferenceConfig,
    deploymentConfig: DEPLOY_REQUEST_SCHEMA.properties.deploymentConfig,
    source: SOURCE_BUNDLE_SCHEMA,
  },
} as const;

export const REGISTER_MODEL_REQUEST_SCHEMA = {
  type: 'object',
  required: ['name', 'uploadId'],
  additionalProperties: false,
  properties: {
    name: { type: 'string' },
    uploadId: { type: 'string', description: 'From POST /api/uploads.' },
    tags: stringMap,
    properties: stringMap,
    description: { type: 'string' },
  },
} as const;

export const UPLOAD_RESPONSE_SCHEMA = {
  type: 'object',
  properties: {
    uploadId: { type: 'string' },
    kind: { type: 'string', enum: ['file', 'folder'] },
    size: { type: 'integer' },
  },
} as const;
