import { ensureControlPlane, findControlPlane } from '../../deploy/control-plane-launcher.js';
import type { DeployServiceRequest, KeyName, UpdateServiceRequest } from '../../deploy/service-requests.js';
import type { ServiceKeysView, ServiceView } from '../../deploy/service-view.js';
import type { WorkspaceStores } from '../../store/open-store.js';
import { SqliteServiceStore } from '../../store/sqlite/sqlite-service-store.js';
import { ApiConnection } from './api-connection.js';
import { ServiceApiClient } from './service-api-client.js';

/**
 * The service half of the embedded client (a workspace folder). Reconciliation is owned by one
 * process per workspace, its control plane: every service call goes through the control plane's
 * API, which is started in the background (`<ws>/control-plane.json`) when it is not running.
 * Two shortcuts spare that start: listing a workspace without services, and naming a service
 * that does not exist (SERVICE_NOT_FOUND straight from the store).
 */
export class LocalControlPlaneServices {
  /** The workspace's service records (read-only here; the control plane writes them). */
  readonly store: SqliteServiceStore;
  private readonly dir: string;
  private readonly services: ServiceApiClient;

  constructor(stores: WorkspaceStores) {
    this.dir = stores.dir;
    this.store = new SqliteServiceStore(stores.db);
    this.services = new ServiceApiClient(
      new ApiConnection(async () => {
        const info = await ensureControlPlane(this.dir);
        return { url: info.url, token: info.token };
      }),
    );
  }

  async deployService(request: DeployServiceRequest): Promise<ServiceView> {
    return this.services.deployService(request);
  }

  async listServices(): Promise<ServiceView[]> {
    if (this.store.list().length === 0 && !(await findControlPlane(this.dir))) return [];
    return this.services.listServices();
  }

  async getService(name: string): Promise<ServiceView> {
    this.store.get(name);
    return this.services.getService(name);
  }

  async updateService(name: string, request: UpdateServiceRequest): Promise<ServiceView> {
    this.store.get(name);
    return this.services.updateService(name, request);
  }

  async deleteService(name: string): Promise<void> {
    this.store.get(name);
    await this.services.deleteService(name);
  }

  async getServiceLogs(name: string, options?: { tail?: number }): Promise<string> {
    this.store.get(name);
    return this.services.getServiceLogs(name, options);
  }

  async followServiceLogs(
    name: string,
    options: { tail?: number; signal?: AbortSignal; onText(text: string): void },
  ): Promise<void> {
    this.store.get(name);
    return this.services.followServiceLogs(name, options);
  }

  async getServiceKeys(name: string): Promise<ServiceKeysView> {
    this.store.get(name);
    return this.services.getServiceKeys(name);
  }

  async regenerateServiceKey(
    name: string,
    which: KeyName,
  ): Promise<{ keys: ServiceKeysView; service: ServiceView }> {
    this.store.get(name);
    return this.services.regenerateServiceKey(name, which);
  }
}
