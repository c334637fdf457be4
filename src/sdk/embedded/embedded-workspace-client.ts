import type { DeployServiceRequest, KeyName, UpdateServiceRequest } from '../../deploy/service-requests.js';
import type { ServiceKeysView, ServiceView } from '../../deploy/service-view.js';
import {
  type ListModelsFilter,
  ModelRegistry,
  type RegisterModelInput,
  type TagChange,
} from '../../registry/model-registry.js';
import type { ModelVersion } from '../../registry/model-version.js';
import { openWorkspaceStores, type WorkspaceStores } from '../../store/open-store.js';
import { LocalControlPlaneServices } from '../remote/local-control-plane-services.js';
import type { WorkspaceClient } from '../workspace-client.js';

/**
 * A workspace folder opened in this process (SQLite + artifact folder). Other processes may use
 * the same folder at the same time. `stores` and `registry` are for Berth's own layers (deploy,
 * CLI); SDK users go through `Workspace` and `Model`.
 */
export class EmbeddedWorkspaceClient implements WorkspaceClient {
  readonly kind = 'embedded';
  readonly location: string;
  readonly stores: WorkspaceStores;
  readonly registry: ModelRegistry;
  private readonly services: LocalControlPlaneServices;

  /** @throws STORE_ERROR when the folder or its database cannot be created or opened. */
  constructor(dir: string) {
    this.stores = openWorkspaceStores(dir);
    this.location = this.stores.dir;
    this.registry = new ModelRegistry(this.stores);
    // Services go through the workspace's control plane (started when needed); deleting a model
    // used by a service fails with MODEL_IN_USE naming the services.
    this.services = new LocalControlPlaneServices(this.stores);
    this.registry.setUsageGuard((name, version) => this.services.store.servicesUsingModel(name, version));
  }

  async registerModel(input: RegisterModelInput): Promise<ModelVersion> {
    return this.registry.register(input);
  }

  async listModels(filter?: ListModelsFilter): Promise<ModelVersion[]> {
    return this.registry.list(filter);
  }

  async getModel(ref: string): Promise<ModelVersion> {
    return this.registry.get(ref);
  }

  async downloadModel(ref: string, dir: string): Promise<ModelVersion> {
    return this.registry.download(ref, dir);
  }

  async deleteModel(ref: string): Promise<ModelVersion> {
    return this.registry.delete(ref);
  }

  async tagModel(ref: string, change: TagChange): Promise<ModelVersion> {
    return this.registry.tag(ref, change);
  }

  async setModelAlias(ref: string, alias: string): Promise<ModelVersion> {
    return this.registry.setAlias(ref, alias);
  }

  deployService(request: DeployServiceRequest): Promise<ServiceView> {
    return this.services.deployService(request);
  }

  listServices(): Promise<ServiceView[]> {
    return this.services.listServices();
  }

  getService(name: string): Promise<ServiceView> {
    return this.services.getService(name);
  }

  updateService(name: string, request: UpdateServiceRequest): Promise<ServiceView> {
    return this.services.updateService(name, request);
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

  async close(): Promise<void> {
    this.stores.close();
  }
}
