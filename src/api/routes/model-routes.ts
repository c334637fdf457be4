import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
} from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance } from 'fastify';
import { BerthError } from '../../core/errors.js';
import type { ModelRegistry } from '../../registry/model-registry.js';
import type { TempArea } from '../../store/temp-area.js';
import {
  MODEL_VERSION_SCHEMA,
  REGISTER_MODEL_REQUEST_SCHEMA,
  UPLOAD_RESPONSE_SCHEMA,
} from '../schemas/api-schemas.js';

const UPLOAD_ID = /^\d+-[0-9a-f]{12}-upload$/;
const refParam = {
  type: 'object',
  properties: { ref: { type: 'string', description: 'NAME, NAME:VERSION or NAME@ALIAS' } },
} as const;

function uploadDir(temp: TempArea, id: string): string {
  if (!UPLOAD_ID.test(id)) throw new BerthError('INVALID_ARGUMENT', `"${id}" is not an upload id.`);
  const dir = join(temp.dir, id);
  if (!existsSync(dir)) {
    throw new BerthError('PATH_NOT_FOUND', `Upload "${id}" does not exist (used already, or expired).`, {
      hint: 'Upload the model files again with POST /api/uploads.',
    });
  }
  return dir;
}

/** The path `register` takes for an upload: its folder, or its single file. */
function uploadedPath(dir: string): string {
  const folder = join(dir, 'folder');
  if (existsSync(folder)) return folder;
  const fileDir = join(dir, 'file');
  const [name] = readdirSync(fileDir);
  return join(fileDir, name);
}

/**
 * Model routes mirroring the SDK's Model verbs. Registering from a remote client takes two calls:
 * `POST /api/uploads` streams the bytes (one file, or a tar of a folder), `POST /api/models` registers them.
 */
export function registerModelRoutes(app: FastifyInstance, registry: ModelRegistry, temp: TempArea): void {
  app.addContentTypeParser(['application/octet-stream', 'application/x-tar'], (_request, payload, done) => {
    done(null, payload);
  });

  app.post<{ Querystring: { filename?: string } }>(
    '/api/uploads',
    {
      schema: {
        summary:
          'Upload model files: one file (application/octet-stream, ?filename=) or a folder (application/x-tar).',
        tags: ['models'],
        querystring: { type: 'object', properties: { filename: { type: 'string' } } },
        response: { 201: UPLOAD_RESPONSE_SCHEMA },
      },
    },
    async (request, reply) => {
      const type = String(request.headers['content-type'] ?? '')
        .split(';')[0]
        .trim();
      const body = request.body as Readable;
      const dir = temp.path('upload');
      try {
        if (type === 'application/x-tar') {
          const target = join(dir, 'folder');
          mkdirSync(target, { recursive: true });
          const tar = await import('tar');
          await pipeline(body, tar.x({ cwd: target, strict: true }));
        } else if (type === 'application/octet-stream') {
          const filename = basename(request.query.filename ?? '');
          if (!filename || filename === '.' || filename === '..') {
            throw new BerthError(
              'INVALID_ARGUMENT',
              'A single-file upload needs ?filename=NAME (the model file name).',
            );
          }
          mkdirSync(join(dir, 'file'), { recursive: true });
          await pipeline(body, createWriteStream(join(dir, 'file', filename)));
        } else {
          throw new BerthError(
            'INVALID_ARGUMENT',
            `Upload content type "${type}" is neither application/octet-stream nor application/x-tar.`,
          );
        }
      } catch (err) {
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
      const kind = existsSync(join(dir, 'folder')) ? 'folder' : 'file';
      const size = kind === 'file' ? statSync(uploadedPath(dir)).size : 0;
      return reply.status(201).send({ uploadId: basename(dir), kind, size });
    },
  );

  app.post<{
    Body: {
      name: string;
      uploadId: string;
      tags?: Record<string, string>;
      properties?: Record<string, string>;
      description?: string;
    };
  }>(
    '/api/models',
    {
      schema: {
        summary: 'Register the next version of a model from an upload.',
        tags: ['models'],
        body: REGISTER_MODEL_REQUEST_SCHEMA,
        response: { 201: MODEL_VERSION_SCHEMA },
      },
    },
    async (request, reply) => {
      const dir = uploadDir(temp, request.body.uploadId);
      try {
        const { uploadId: _id, ...input } = request.body;
        const model = await registry.register({ ...input, path: uploadedPath(dir) });
        return reply.status(201).send(model);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  app.get<{ Querystring: { name?: string; tag?: string | string[]; latest?: boolean } }>(
    '/api/models',
    {
      schema: {
        summary: 'List model versions (by name, then version descending).',
        tags: ['models'],
        querystring: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            tag: {
              type: 'array',
              items: { type: 'string' },
              description: 'key=value or key; all must match',
            },
            latest: { type: 'boolean' },
          },
        },
        response: { 200: { type: 'array', items: MODEL_VERSION_SCHEMA } },
      },
    },
    async (request) => {
      const tagList = request.query.tag === undefined ? [] : [request.query.tag].flat();
      const tags: Record<string, string | true> = {};
      for (const t of tagList) {
        const eq = t.indexOf('=');
        if (eq < 0) tags[t] = true;
        else tags[t.slice(0, eq)] = t.slice(eq + 1);
      }
      return registry.list({
        name: request.query.name,
        tags: tagList.length ? tags : undefined,
        latest: request.query.latest,
      });
    },
  );

  app.get<{ Params: { ref: string } }>(
    '/api/models/:ref',
    {
      schema: {
        summary: 'Show a model version.',
        tags: ['models'],
        params: refParam,
        response: { 200: MODEL_VERSION_SCHEMA },
      },
    },
    async (request) => registry.get(request.params.ref),
  );

  app.delete<{ Params: { ref: string } }>(
    '/api/models/:ref',
    {
      schema: {
        summary: 'Delete a model version (refused with MODEL_IN_USE while a service uses it).',
        tags: ['models'],
        params: refParam,
        response: { 200: MODEL_VERSION_SCHEMA },
      },
    },
    async (request) => registry.delete(request.params.ref),
  );

  app.post<{ Params: { ref: string }; Body: { add?: Record<string, string>; remove?: string[] } }>(
    '/api/models/:ref/tags',
    {
      schema: {
        summary: 'Set and remove tags of a model version.',
        tags: ['models'],
        params: refParam,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            add: { type: 'object', additionalProperties: { type: 'string' } },
            remove: { type: 'array', items: { type: 'string' } },
          },
        },
        response: { 200: MODEL_VERSION_SCHEMA },
      },
    },
    async (request) => registry.tag(request.params.ref, request.body ?? {}),
  );

  app.post<{ Params: { ref: string }; Body: { alias: string } }>(
    '/api/models/:ref/alias',
    {
      schema: {
        summary: 'Point an alias (NAME@ALIAS) at a model version.',
        tags: ['models'],
        params: refParam,
        body: {
          type: 'object',
          required: ['alias'],
          additionalProperties: false,
          properties: { alias: { type: 'string' } },
        },
        response: { 200: MODEL_VERSION_SCHEMA },
      },
    },
    async (request) => registry.setAlias(request.params.ref, request.body.alias),
  );

  app.get<{ Params: { ref: string; '*': string } }>(
    '/api/models/:ref/files/*',
    {
      schema: {
        summary: "Download one file of a model version (paths as in the version's `files`).",
        tags: ['models'],
        params: { type: 'object', properties: { ref: { type: 'string' }, '*': { type: 'string' } } },
      },
    },
    async (request, reply) => {
      const folder = await registry.materialize(request.params.ref);
      const file = resolve(folder, request.params['*']);
      const rel = relative(folder, file);
      if (
        !rel ||
        rel.startsWith('..') ||
        rel.split(sep).includes('..') ||
        !existsSync(file) ||
        !statSync(file).isFile()
      ) {
        throw new BerthError(
          'PATH_NOT_FOUND',
          `Model ${request.params.ref} has no file "${request.params['*']}".`,
          {
            hint: `See its files with: berth model show ${request.params.ref}`,
          },
        );
      }
      return reply
        .type('application/octet-stream')
        .header('content-length', statSync(file).size)
        .send(createReadStream(file));
    },
  );
}
