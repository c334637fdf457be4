import { resolve } from 'node:path';
import type { DeploymentConfig } from '../core/config/deployment-config.js';
import type { InferenceConfig } from '../core/config/inference-config.js';
import type { ListModelsFilter, RegisterModelInput, TagChange } from '../registry/model-registry.js';
import type { ModelFile, ModelVersion } from '../registry/model-version.js';
import { type ModelLike, Webservice } from './webservice.js';
import type { Workspace } from './workspace.js';

/**
 * A registered model version of a workspace. All `ModelVersion` fields are properties
 * (`id`, `name`, `version`, `sha256`, `size`, `fileCount`, `files`, `tags`, `properties`,
 * `description`, `aliases`, `createdAt`); `JSON.stringify(model)` gives the same JSON as
 * `berth model show --json`.
 *
 * @example
 * ```ts
 * const model = await Model.register(ws, { name: 'iris', path: './iris.onnx' });
 * const latest = await Model.get(ws, 'iris');          // or 'iris:1', 'iris@production'
 * const dev = await Model.list(ws, { tags: { stage: 'dev' }, latest: true });
 * await model.download('./out');
 * await model.delete();
 * ```
 */
export class Model implements ModelVersion {
  declare readonly id: string;
  declare readonly name: string;
  declare readonly version: number;
  declare readonly sha256: string;
  declare readonly size: number;
  declare readonly fileCount: number;
  declare readonly files: ModelFile[];
  declare readonly tags: Record<string, string>;
  declare readonly properties: Record<string, string>;
  declare readonly description: string | null;
  declare readonly aliases: string[];
  declare readonly createdAt: string;
  readonly #workspace: Workspace;

  private constructor(workspace: Workspace, data: ModelVersion) {
    this.#workspace = workspace;
    this.#apply(data);
  }

  /**
   * Registers a file or folder as the next version of `input.name`.
   * @throws INVALID_NAME, INVALID_TAG, PATH_NOT_FOUND, EMPTY_MODEL, UNSAFE_SYMLINK, STORE_ERROR
   */
  static async register(workspace: Workspace, input: RegisterModelInput): Promise<Model> {
    return new Model(workspace, await workspace.client.registerModel(input));
  }

  /**
   * Versions matching `filter` (by name, tags — a value, or `true` for "has the key" — and
   * `latest`), by name then version descending.
   */
  static async list(workspace: Workspace, filter: ListModelsFilter = {}): Promise<Model[]> {
    return (await workspace.client.listModels(filter)).map((m) => new Model(workspace, m));
  }

  /** @param ref NAME (latest), NAME:VERSION or NAME@ALIAS. @throws INVALID_MODEL_REF, MODEL_NOT_FOUND */
  static async get(workspace: Workspace, ref: string): Promise<Model> {
    return new Model(workspace, await workspace.client.getModel(ref));
  }

  /**
   * Deploys `models` as the service `name` (the seed's `Model.deploy`); returns at once, state
   * `Transitioning`: then `await service.waitForDeployment({ showOutput: true })`.
   * @param models `Model`s or references (NAME, NAME:VERSION, NAME@ALIAS).
   * @param inferenceConfig `new InferenceConfig({...})`, `InferenceConfig.load(file)` or a plain object
   *   (paths relative to the current folder); absent = ONNX runtime, no code.
   * @param deploymentConfig e.g. `LocalWebservice.deployConfiguration({ port: 8890 })`; absent = local defaults.
   * @throws SERVICE_ALREADY_EXISTS (use `service.update`), MODEL_NOT_FOUND, INVALID_CONFIG, NOT_SUPPORTED,
   *   ENTRY_SCRIPT_NOT_FOUND, PORT_IN_USE
   */
  static deploy(
    workspace: Workspace,
    name: string,
    models: ModelLike[],
    inferenceConfig?: InferenceConfig | Record<string, unknown>,
    deploymentConfig?: Partial<DeploymentConfig>,
  ): Promise<Webservice> {
    return Webservice.deploy(workspace, name, models, inferenceConfig, deploymentConfig);
  }

  /**
   * Writes this version's files into `dir`, verified against their sha256.
   * @returns the absolute folder.
   * @throws ARTIFACT_CORRUPTED (naming the file), MODEL_NOT_FOUND when deleted meanwhile.
   */
  async download(dir: string): Promise<string> {
    await this.#workspace.client.downloadModel(this.id, dir);
    return resolve(dir);
  }

  /** Deletes this version. @throws MODEL_IN_USE (naming the services), MODEL_NOT_FOUND */
  async delete(): Promise<void> {
    await this.#workspace.client.deleteModel(this.id);
  }

  /** Sets and removes tags; this object is updated. @throws INVALID_TAG, MODEL_NOT_FOUND */
  async tag(change: TagChange): Promise<this> {
    this.#apply(await this.#workspace.client.tagModel(this.id, change));
    return this;
  }

  /** Moves `alias` to this version (`NAME@ALIAS` then resolves here). @throws INVALID_NAME */
  async setAlias(alias: string): Promise<this> {
    this.#apply(await this.#workspace.client.setModelAlias(this.id, alias));
    return this;
  }

  toJSON(): ModelVersion {
    return {
      id: this.id,
      name: this.name,
      version: this.version,
      sha256: this.sha256,
      size: this.size,
      fileCount: this.fileCount,
      files: this.files,
      tags: this.tags,
      properties: this.properties,
      description: this.description,
      aliases: this.aliases,
      createdAt: this.createdAt,
    };
  }

  #apply(data: ModelVersion): void {
    Object.assign(this, data);
  }
}
