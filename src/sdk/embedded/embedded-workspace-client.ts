import {
  type ListModelsFilter,
  ModelRegistry,
  type RegisterModelInput,
  type TagChange,
} from '../../registry/model-registry.js';
import type { ModelVersion } from '../../registry/model-version.js';
import { openWorkspaceStores, type WorkspaceStores } from '../../store/open-store.js';
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

  /** @throws STORE_ERROR when the folder or its database cannot be created or opened. */
  constructor(dir: string) {
    this.stores = openWorkspaceStores(dir);
    this.location = this.stores.dir;
    this.registry = new ModelRegistry(this.stores);
    // The deploy layer installs its usage guard here (registry.setUsageGuard) so that deleting a
    // model used by a service fails with MODEL_IN_USE.
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

  async close(): Promise<void> {
    this.stores.close();
  }
}
