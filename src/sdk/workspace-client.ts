import type { DeployServiceRequest, KeyName, UpdateServiceRequest } from '../deploy/service-requests.js';
import type { ServiceKeysView, ServiceView } from '../deploy/service-view.js';
import type { ListModelsFilter, RegisterModelInput, TagChange } from '../registry/model-registry.js';
import type { ModelVersion } from '../registry/model-version.js';

/**
 * What the SDK needs from a workspace, implemented twice with the same behaviour:
 * `EmbeddedWorkspaceClient` (a workspace folder opened in this process) and the remote client
 * (a Berth server reached by URL). Every method rejects with a `BerthError`; the codes listed are
 * the same for both.
 */
export interface WorkspaceClient {
  readonly kind: 'embedded' | 'remote';
  /** The absolute workspace folder, or the server URL. */
  readonly location: string;

  /**
   * Registers the file or folder at `input.path` as the next version of `input.name`.
   * @throws INVALID_NAME, INVALID_TAG, PATH_NOT_FOUND, EMPTY_MODEL, UNSAFE_SYMLINK, STORE_ERROR
   */
  registerModel(input: RegisterModelInput): Promise<ModelVersion>;

  /** Versions matching `filter`, by name then version descending. @throws INVALID_NAME, INVALID_TAG */
  listModels(filter?: ListModelsFilter): Promise<ModelVersion[]>;

  /** @throws INVALID_MODEL_REF, MODEL_NOT_FOUND */
  getModel(ref: string): Promise<ModelVersion>;

  /**
   * Writes the version's files into `dir` (relative layout kept), verified against their sha256.
   * @throws MODEL_NOT_FOUND, ARTIFACT_CORRUPTED (naming the file)
   */
  downloadModel(ref: string, dir: string): Promise<ModelVersion>;

  /** Deletes one version. @returns the deleted version. @throws MODEL_NOT_FOUND, MODEL_IN_USE */
  deleteModel(ref: string): Promise<ModelVersion>;

  /** @returns the version with its updated tags. @throws MODEL_NOT_FOUND, INVALID_TAG */
  tagModel(ref: string, change: TagChange): Promise<ModelVersion>;

  /** Moves `alias` to the version `ref` names. @throws MODEL_NOT_FOUND, INVALID_NAME */
  setModelAlias(ref: string, alias: string): Promise<ModelVersion>;

  /**
   * Records a new service and starts deploying it; resolves at once (state `Transitioning`).
   * @throws INVALID_NAME, SERVICE_ALREADY_EXISTS, INVALID_CONFIG, NOT_SUPPORTED, ENTRY_SCRIPT_NOT_FOUND,
   *   PATH_NOT_FOUND, MODEL_NOT_FOUND, PORT_IN_USE, CONTROL_PLANE_UNAVAILABLE
   */
  deployService(request: DeployServiceRequest): Promise<ServiceView>;

  /** Every service of the workspace, by name. */
  listServices(): Promise<ServiceView[]>;

  /** @throws SERVICE_NOT_FOUND */
  getService(name: string): Promise<ServiceView>;

  /**
   * Starts a rolling update (each part given replaces the current one); resolves at once with the
   * new `generation`. @throws SERVICE_NOT_FOUND and the codes of `deployService`
   */
  updateService(name: string, request: UpdateServiceRequest): Promise<ServiceView>;

  /** Drains and stops the replicas, removes the service; resolves once it is gone. @throws SERVICE_NOT_FOUND */
  deleteService(name: string): Promise<void>;

  /** The service's log, last `tail` lines (all by default). @throws SERVICE_NOT_FOUND */
  getServiceLogs(name: string, options?: { tail?: number }): Promise<string>;

  /** Streams the log (the last `tail` lines first) to `onText` until `signal` aborts. @throws SERVICE_NOT_FOUND */
  followServiceLogs(
    name: string,
    options: { tail?: number; signal?: AbortSignal; onText(text: string): void },
  ): Promise<void>;

  /** @throws SERVICE_NOT_FOUND */
  getServiceKeys(name: string): Promise<ServiceKeysView>;

  /** Replaces one key (rolled out by a rolling update when auth is enabled). @throws SERVICE_NOT_FOUND */
  regenerateServiceKey(
    name: string,
    which: KeyName,
  ): Promise<{ keys: ServiceKeysView; service: ServiceView }>;

  /** Releases the connection or files; idempotent. */
  close(): Promise<void>;
}
