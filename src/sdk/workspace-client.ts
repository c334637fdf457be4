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

  /** Releases the connection or files; idempotent. */
  close(): Promise<void>;
}
