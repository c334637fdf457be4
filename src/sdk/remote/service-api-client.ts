import type { DeployServiceRequest, KeyName, UpdateServiceRequest } from '../../deploy/service-requests.js';
import type { ServiceKeysView, ServiceView } from '../../deploy/service-view.js';
import type { WorkspaceClient } from '../workspace-client.js';
import { type ApiConnection, segment } from './api-connection.js';
import type { HttpResponse } from './http-request.js';

type ServiceMethods = Pick<
  WorkspaceClient,
  | 'deployService'
  | 'listServices'
  | 'getService'
  | 'updateService'
  | 'deleteService'
  | 'getServiceLogs'
  | 'followServiceLogs'
  | 'getServiceKeys'
  | 'regenerateServiceKey'
>;

/** The service half of WorkspaceClient over the management API (`/api/services/...`). */
export class ServiceApiClient implements ServiceMethods {
  constructor(private readonly api: ApiConnection) {}

  deployService(request: DeployServiceRequest): Promise<ServiceView> {
    return this.api.json('POST', 'api/services', { json: request });
  }

  listServices(): Promise<ServiceView[]> {
    return this.api.json('GET', 'api/services');
  }

  getService(name: string): Promise<ServiceView> {
    return this.api.json('GET', `api/services/${segment(name)}`);
  }

  updateService(name: string, request: UpdateServiceRequest): Promise<ServiceView> {
    return this.api.json('POST', `api/services/${segment(name)}/update`, { json: request });
  }

  async deleteService(name: string): Promise<void> {
    await this.api.json('DELETE', `api/services/${segment(name)}`);
  }

  async getServiceLogs(name: string, options: { tail?: number } = {}): Promise<string> {
    const res = await this.api.send('GET', `api/services/${segment(name)}/logs`, {
      query: { tail: options.tail },
    });
    return res.text();
  }

  async followServiceLogs(
    name: string,
    options: { tail?: number; signal?: AbortSignal; onText(text: string): void },
  ): Promise<void> {
    let res: HttpResponse;
    try {
      res = await this.api.send('GET', `api/services/${segment(name)}/logs`, {
        query: { tail: options.tail, follow: true },
        signal: options.signal,
      });
    } catch (err) {
      if (options.signal?.aborted) return;
      throw err;
    }
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.stream) options.onText(decoder.decode(chunk as Buffer, { stream: true }));
    } catch (err) {
      // Aborting (Ctrl-C) tears the response down: that is the normal end of following.
      if (!options.signal?.aborted) throw err;
    }
  }

  getServiceKeys(name: string): Promise<ServiceKeysView> {
    return this.api.json('GET', `api/services/${segment(name)}/keys`);
  }

  async regenerateServiceKey(
    name: string,
    which: KeyName,
  ): Promise<{ keys: ServiceKeysView; service: ServiceView }> {
    const body = await this.api.json<ServiceKeysView & { service: ServiceView }>(
      'POST',
      `api/services/${segment(name)}/keys/regenerate`,
      { json: { key: which } },
    );
    return { keys: { primaryKey: body.primaryKey, secondaryKey: body.secondaryKey }, service: body.service };
  }
}
