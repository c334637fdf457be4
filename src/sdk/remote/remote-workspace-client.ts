import { createHash } from 'node:crypto';
import {
  createReadStream,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import type { InferenceConfig } from '../../core/config/inference-config.js';
import { BerthError } from '../../core/errors.js';
import { assertValidName } from '../../core/model-ref.js';
import type { DeployServiceRequest, KeyName, UpdateServiceRequest } from '../../deploy/service-requests.js';
import type { ServiceKeysView, ServiceView } from '../../deploy/service-view.js';
import type { ListModelsFilter, RegisterModelInput, TagChange } from '../../registry/model-registry.js';
import type { ModelVersion } from '../../registry/model-version.js';
import type { WorkspaceClient } from '../workspace-client.js';
import { ApiConnection, segment } from './api-connection.js';
import { readSourceBundle } from './read-source-bundle.js';
import { ServiceApiClient } from './service-api-client.js';

/**
 * A workspace served by a Berth control plane (`berth server start`), reached over its management
 * API with a Bearer token: `Workspace.connect(url, token)` and `berth --url URL --token T`.
 * Same behaviour and error codes as the embedded client. Files cross the wire: model files are
 * streamed up (one file, or a tar of a folder) and down (each verified against its sha256); the
 * entry script's source folder goes along with a deploy or update.
 */
export class RemoteWorkspaceClient implements WorkspaceClient {
  readonly kind = 'remote';
  readonly location: string;
  private readonly api: ApiConnection;
  private readonly services: ServiceApiClient;

  constructor(url: string, token?: string) {
    if (!/^https?:\/\//.test(url)) {
      throw new BerthError('INVALID_ARGUMENT', `"${url}" is not an http(s) URL.`, {
        hint: 'Give the control plane URL, e.g. http://127.0.0.1:7000 (berth server status prints it).',
      });
    }
    this.location = url.replace(/\/+$/, '');
    this.api = new ApiConnection(async () => ({ url: this.location, token }));
    this.services = new ServiceApiClient(this.api);
  }

  async registerModel(input: RegisterModelInput): Promise<ModelVersion> {
    if (typeof input?.name !== 'string')
      throw new BerthError('INVALID_ARGUMENT', 'name is required (a string).');
    assertValidName(input.name, 'model name');
    const path = resolve(input.path);
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch (cause) {
      throw new BerthError('PATH_NOT_FOUND', `Model path "${input.path}" does not exist.`, {
        hint: 'Give a model file or folder; the path is relative to the current folder.',
        cause,
      });
    }
    let upload: { uploadId: string };
    if (isDir) {
      const entries = readdirSync(path);
      if (entries.length === 0) {
        throw new BerthError('EMPTY_MODEL', `Model folder "${input.path}" holds no files.`, {
          hint: 'Register a folder that contains the model files.',
        });
      }
      const tar = await import('tar');
      const stream = tar.c(
        { cwd: path, portable: true, gzip: false },
        entries,
      ) as unknown as NodeJS.ReadableStream;
      upload = await this.api.json('POST', 'api/uploads', {
        body: Readable.from(stream),
        contentType: 'application/x-tar',
      });
    } else {
      upload = await this.api.json('POST', 'api/uploads', {
        query: { filename: basename(path) },
        body: createReadStream(path),
        contentType: 'application/octet-stream',
      });
    }
    return this.api.json('POST', 'api/models', {
      json: {
        name: input.name,
        uploadId: upload.uploadId,
        ...(input.tags ? { tags: input.tags } : {}),
        ...(input.properties ? { properties: input.properties } : {}),
        ...(input.description !== undefined && input.description !== null
          ? { description: input.description }
          : {}),
      },
    });
  }

  listModels(filter: ListModelsFilter = {}): Promise<ModelVersion[]> {
    const tag = Object.entries(filter.tags ?? {}).map(([k, v]) => (v === true ? k : `${k}=${v}`));
    return this.api.json('GET', 'api/models', {
      query: { name: filter.name, tag: tag.length ? tag : undefined, latest: filter.latest || undefined },
    });
  }

  getModel(ref: string): Promise<ModelVersion> {
    return this.api.json('GET', `api/models/${segment(ref)}`);
  }

  async downloadModel(ref: string, dir: string): Promise<ModelVersion> {
    const model = await this.getModel(ref);
    const target = resolve(dir);
    mkdirSync(target, { recursive: true });
    const staging = join(target, `.berth-download-${process.pid}-${Date.now().toString(36)}`);
    try {
      for (const file of model.files) {
        const res = await this.api.send(
          'GET',
          `api/models/${segment(model.id)}/files/${file.path.split('/').map(segment).join('/')}`,
        );
        const data = await res.buffer();
        const sha = createHash('sha256').update(data).digest('hex');
        if (sha !== file.sha256) {
          throw new BerthError(
            'ARTIFACT_CORRUPTED',
            `File "${file.path}" of ${model.id} arrived with sha256 ${sha}, expected ${file.sha256}.`,
            {
              hint: 'Download again; if it persists, the stored model is damaged.',
            },
          );
        }
        const dest = join(staging, file.path);
        mkdirSync(dirname(dest), { recursive: true });
        writeFileSync(dest, data);
      }
      for (const file of model.files) {
        const dest = join(target, file.path);
        mkdirSync(dirname(dest), { recursive: true });
        renameSync(join(staging, file.path), dest);
      }
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
    return model;
  }

  deleteModel(ref: string): Promise<ModelVersion> {
    return this.api.json('DELETE', `api/models/${segment(ref)}`);
  }

  tagModel(ref: string, change: TagChange): Promise<ModelVersion> {
    return this.api.json('POST', `api/models/${segment(ref)}/tags`, { json: change });
  }

  setModelAlias(ref: string, alias: string): Promise<ModelVersion> {
    return this.api.json('POST', `api/models/${segment(ref)}/alias`, { json: { alias } });
  }

  deployService(request: DeployServiceRequest): Promise<ServiceView> {
    const source = readSourceBundle(request.inferenceConfig as InferenceConfig | undefined);
    return this.services.deployService(source ? { ...request, source } : request);
  }

  listServices(): Promise<ServiceView[]> {
    return this.services.listServices();
  }

  getService(name: string): Promise<ServiceView> {
    return this.services.getService(name);
  }

  updateService(name: string, request: UpdateServiceRequest): Promise<ServiceView> {
    const source = readSourceBundle(request.inferenceConfig as InferenceConfig | undefined);
    return this.services.updateService(name, source ? { ...request, source } : request);
  }

  deleteService(name: string): Promise<void> {
    return this.services.deleteService(name);
  }

  getServiceLogs(name: string, options?: { tail?: number }): Promise<string> {
    return this.services.getServiceLogs(name, options);
  }

  followServiceLogs(
    name: string,
    options: { tail?: number; signal?: AbortSignal; onText(text: string): void },
  ): Promise<void> {
    return this.services.followServiceLogs(name, options);
  }

  getServiceKeys(name: string): Promise<ServiceKeysView> {
    return this.services.getServiceKeys(name);
  }

  regenerateServiceKey(
    name: string,
    which: KeyName,
  ): Promise<{ keys: ServiceKeysView; service: ServiceView }> {
    return this.services.regenerateServiceKey(name, which);
  }

  async close(): Promise<void> {}
}
