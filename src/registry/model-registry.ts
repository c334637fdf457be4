import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { BerthError } from '../core/errors.js';
import { assertValidName, type ModelRef, parseModelRef } from '../core/model-ref.js';
import type { ModelFileRecord, ModelVersionRecord, NewModelVersion } from '../store/model-version-record.js';
import type { WorkspaceStores } from '../store/open-store.js';
import { type WalkedFile, walkModelInput } from './folder-walker.js';
import { assertValidKey, assertValidKeyValues } from './key-value.js';
import { type ModelVersion, toModelVersion } from './model-version.js';

export interface RegisterModelInput {
  name: string;
  /** A file, or a folder whose files are registered with their relative layout. */
  path: string;
  tags?: Record<string, string>;
  properties?: Record<string, string>;
  description?: string;
}

export interface ListModelsFilter {
  name?: string;
  /** key → required value, or `true` for "has this key". All must match. */
  tags?: Record<string, string | true>;
  /** Only the highest matching version of each name. */
  latest?: boolean;
}

export interface TagChange {
  /** Tags to set (a value replaces the existing one). */
  add?: Record<string, string>;
  /** Keys to remove (absent keys are ignored). */
  remove?: string[];
}

/** Names of the services using `name:version`; an empty list allows deleting it. */
export type UsageGuard = (name: string, version: number) => string[];

/** Files put into the artifact store concurrently during one registration. */
const PUT_CONCURRENCY = 4;

/**
 * The model registry of a workspace: registers files and folders as immutable, numbered versions
 * and hands them back (download, materialize). Every method taking a `ref` accepts NAME (latest),
 * NAME:VERSION and NAME@ALIAS, and throws INVALID_MODEL_REF / MODEL_NOT_FOUND accordingly.
 *
 * Visibility: a version's row commits only after all of its files are complete in the artifact
 * store, so a crash leaves no visible version (at most temp files, removed by the next writer).
 */
export class ModelRegistry {
  private usageGuard: UsageGuard = () => [];

  constructor(private readonly stores: WorkspaceStores) {}

  /** Absolute workspace folder. */
  get dir(): string {
    return this.stores.dir;
  }

  /**
   * Registers the next version of `input.name` (1 for a new name). Files are hashed while being
   * copied into the artifact store; identical files are stored once. Concurrent registrations of
   * the same name, in any process, get distinct consecutive versions.
   * @throws INVALID_NAME, INVALID_TAG, INVALID_ARGUMENT, PATH_NOT_FOUND, EMPTY_MODEL, UNSAFE_SYMLINK,
   *   STORE_ERROR — all before anything becomes visible.
   */
  async register(input: RegisterModelInput): Promise<ModelVersion> {
    if (typeof input?.name !== 'string') throw argument('name is required (a string).');
    if (typeof input.path !== 'string' || input.path === '')
      throw argument('path is required (a file or folder).');
    assertValidName(input.name, 'model name');
    const tags = assertValidKeyValues(input.tags, 'tag');
    const properties = assertValidKeyValues(input.properties, 'property');
    if (
      input.description !== undefined &&
      input.description !== null &&
      typeof input.description !== 'string'
    ) {
      throw argument('description must be a string.');
    }
    const scan = walkModelInput(input.path);
    this.stores.temp.cleanStale();

    const files = await this.putFiles(scan.files);
    const draft: NewModelVersion = {
      name: input.name,
      sha256: scan.kind === 'file' ? files[0].sha256 : folderSha256(files),
      size: files.reduce((sum, f) => sum + f.size, 0),
      files,
      tags,
      properties,
      description: input.description ?? null,
      createdAt: new Date().toISOString(),
    };
    // A concurrent delete may remove a shared blob between our put and our commit: store it again.
    for (let attempt = 1; ; attempt++) {
      let missing: ModelFileRecord[] = [];
      try {
        const record = this.stores.metadata.createModelVersion(draft, () => {
          missing = files.filter((f) => !this.stores.artifacts.has(f.sha256));
          if (missing.length > 0) throw new MissingArtifactsSignal();
        });
        return toModelVersion(record);
      } catch (err) {
        if (!(err instanceof MissingArtifactsSignal)) throw err;
        if (attempt >= 3) {
          throw new BerthError(
            'STORE_ERROR',
            `Artifacts of ${input.name} kept disappearing while registering.`,
            {
              hint: 'Another process is deleting models of this workspace; retry.',
            },
          );
        }
        const sources = new Map(scan.files.map((f, i) => [files[i].path, f]));
        await this.putFiles(missing.map((m) => sources.get(m.path)!));
      }
    }
  }

  /** Versions matching `filter`, by name then version descending. @throws INVALID_NAME, INVALID_TAG */
  list(filter: ListModelsFilter = {}): ModelVersion[] {
    if (filter.name !== undefined) assertValidName(filter.name, 'model name');
    for (const [key, value] of Object.entries(filter.tags ?? {})) {
      assertValidKey(key, 'tag');
      if (value !== true && typeof value !== 'string') {
        throw new BerthError(
          'INVALID_TAG',
          `Tag filter "${key}" must be a string value or true (any value).`,
        );
      }
    }
    return this.stores.metadata.listModelVersions(filter).map(toModelVersion);
  }

  /** @throws INVALID_MODEL_REF, MODEL_NOT_FOUND */
  get(ref: string): ModelVersion {
    return toModelVersion(this.resolve(ref));
  }

  /**
   * Copies the version's files into `dir` (created if needed; relative layout kept; existing files
   * of the same names replaced), verifying each file's sha256 while copying. Files are staged in a
   * hidden folder inside `dir` and moved into place only when all of them are verified.
   * @returns the version downloaded.
   * @throws MODEL_NOT_FOUND, ARTIFACT_CORRUPTED (naming the file; nothing is left in `dir`), STORE_ERROR
   */
  async download(ref: string, dir: string): Promise<ModelVersion> {
    const record = this.resolve(ref);
    const target = resolve(dir);
    const created = mkdirSync(target, { recursive: true });
    const staging = join(target, `.berth-download-${process.pid}-${Date.now().toString(36)}`);
    try {
      await this.exportFiles(record, staging, false);
      for (const f of record.files) {
        const dest = join(target, f.path);
        await mkdir(dirname(dest), { recursive: true });
        await rename(join(staging, f.path), dest);
      }
    } catch (err) {
      if (created) rmSync(created, { recursive: true, force: true });
      throw err;
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
    return toModelVersion(record);
  }

  /**
   * Deletes one version (NAME alone means the latest). Files no other version uses are removed from
   * the artifact store in the same transaction; the materialized copy is removed. The version number
   * is never reused.
   * @returns the deleted version.
   * @throws MODEL_NOT_FOUND, MODEL_IN_USE (naming the services, see setUsageGuard), STORE_ERROR
   */
  delete(ref: string): ModelVersion {
    const record = this.resolve(ref);
    const id = `${record.name}:${record.version}`;
    const services = this.usageGuard(record.name, record.version);
    if (services.length > 0) {
      throw new BerthError('MODEL_IN_USE', `Model ${id} is used by service(s) ${services.join(', ')}.`, {
        hint: `Update or delete the service first, e.g. berth service delete ${services[0]}`,
        details: { model: id, services },
      });
    }
    const deleted = this.stores.metadata.deleteModelVersion(record.name, record.version, (orphans) => {
      for (const sha of orphans) this.stores.artifacts.remove(sha);
    });
    if (!deleted) throw this.notFound(id, record.name);
    this.removeMaterialized(record.name, record.version);
    return toModelVersion(deleted);
  }

  /**
   * Sets tags from `change.add` and removes the keys of `change.remove`.
   * @returns the updated version.
   * @throws MODEL_NOT_FOUND, INVALID_TAG
   */
  tag(ref: string, change: TagChange): ModelVersion {
    const add = assertValidKeyValues(change.add, 'tag');
    const remove = change.remove ?? [];
    for (const key of remove) assertValidKey(key, 'tag');
    const record = this.resolve(ref);
    const updated = this.stores.metadata.updateModelVersionTags(record.name, record.version, { add, remove });
    if (!updated) throw this.notFound(`${record.name}:${record.version}`, record.name);
    return toModelVersion(updated);
  }

  /**
   * Points `alias` at the version `ref` resolves to (moving it from any other version of the name),
   * so that `NAME@ALIAS` resolves to it.
   * @returns the version with its aliases.
   * @throws MODEL_NOT_FOUND, INVALID_NAME (alias)
   */
  setAlias(ref: string, alias: string): ModelVersion {
    assertValidName(alias, 'alias');
    const record = this.resolve(ref);
    const updated = this.stores.metadata.setModelAlias(record.name, alias, record.version);
    if (!updated) throw this.notFound(`${record.name}:${record.version}`, record.name);
    return toModelVersion(updated);
  }

  /**
   * A folder holding exactly the version's files (relative layout kept), at
   * `<workspace>/models/<name>/<version>`: hard links to the artifact store when possible, else
   * copies, each verified against its sha256. Built in the temp area and renamed into place, so it
   * is complete whenever it exists; reused when already there.
   * @returns its absolute path.
   * @throws MODEL_NOT_FOUND, ARTIFACT_CORRUPTED (naming the file), STORE_ERROR
   */
  async materialize(ref: string): Promise<string> {
    const record = this.resolve(ref);
    const target = this.materializedPath(record.name, record.version);
    if (existsSync(target)) return target;
    this.stores.temp.cleanStale();
    const building = this.stores.temp.path(`${record.name}-${record.version}`);
    try {
      await this.exportFiles(record, building, true);
      for (let attempt = 1; ; attempt++) {
        await mkdir(dirname(target), { recursive: true });
        try {
          await rename(building, target);
          break;
        } catch (err) {
          // Another process materialized it first: theirs is as good as ours.
          if (existsSync(target)) break;
          // A concurrent delete of the name's last other version removed models/NAME: recreate it.
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 3) throw storeError(target, err);
        }
      }
    } finally {
      await rm(building, { recursive: true, force: true });
    }
    return target;
  }

  /**
   * Installs the check `delete` runs first (the deploy layer names the services using a version).
   * Replaces any previous guard.
   */
  setUsageGuard(fn: UsageGuard): void {
    this.usageGuard = fn;
  }

  private materializedPath(name: string, version: number): string {
    return join(this.stores.dir, 'models', name, String(version));
  }

  private removeMaterialized(name: string, version: number): void {
    const folder = this.materializedPath(name, version);
    if (!existsSync(folder)) return;
    const doomed = this.stores.temp.path(`deleted-${name}-${version}`);
    try {
      renameSync(folder, doomed);
      rmSync(doomed, { recursive: true, force: true });
      rmdirSync(dirname(folder));
    } catch {
      // Not empty (other versions) or already gone: nothing to do.
    }
  }

  private async putFiles(files: readonly WalkedFile[]): Promise<ModelFileRecord[]> {
    const out: ModelFileRecord[] = new Array(files.length);
    let next = 0;
    const worker = async () => {
      while (next < files.length) {
        const i = next++;
        const stored = await this.stores.artifacts.put(files[i].absolutePath);
        out[i] = { path: files[i].path, sha256: stored.sha256, size: stored.size };
      }
    };
    await Promise.all(Array.from({ length: Math.min(PUT_CONCURRENCY, files.length) }, worker));
    return out;
  }

  private async exportFiles(record: ModelVersionRecord, folder: string, link: boolean): Promise<void> {
    await mkdir(folder, { recursive: true });
    for (const f of record.files) {
      const dest = join(folder, f.path);
      await mkdir(dirname(dest), { recursive: true });
      try {
        await this.stores.artifacts.exportTo(f.sha256, dest, { link });
      } catch (err) {
        if (err instanceof BerthError && err.code === 'ARTIFACT_CORRUPTED') {
          const id = `${record.name}:${record.version}`;
          throw new BerthError(
            'ARTIFACT_CORRUPTED',
            `File "${f.path}" of model ${id} is corrupted: the stored bytes no longer match sha256 ${f.sha256}.`,
            {
              hint: `Delete the version (berth model delete ${id}) and register the original files again.`,
              details: { model: id, path: f.path, sha256: f.sha256 },
              cause: err,
            },
          );
        }
        throw err;
      }
    }
  }

  private resolve(text: string): ModelVersionRecord {
    if (typeof text !== 'string')
      throw argument('a model reference (NAME, NAME:VERSION or NAME@ALIAS) is required.');
    const ref: ModelRef = parseModelRef(text);
    const { metadata } = this.stores;
    const record =
      ref.kind === 'version'
        ? metadata.getModelVersion(ref.name, ref.version)
        : ref.kind === 'alias'
          ? metadata.getModelVersionByAlias(ref.name, ref.alias)
          : metadata.getLatestModelVersion(ref.name);
    if (record) return record;
    if (ref.kind === 'alias' && metadata.listVersionNumbers(ref.name).length > 0) {
      throw new BerthError('MODEL_NOT_FOUND', `Model "${ref.name}" has no alias "${ref.alias}".`, {
        hint: `Set it with: berth model alias ${ref.name}:VERSION ${ref.alias}`,
      });
    }
    throw this.notFound(text, ref.name);
  }

  private notFound(ref: string, name: string): BerthError {
    const versions = this.stores.metadata.listVersionNumbers(name);
    return new BerthError('MODEL_NOT_FOUND', `Model "${ref}" not found.`, {
      hint:
        versions.length > 0
          ? `"${name}" has version(s) ${summarize(versions)}; see berth model list -n ${name}`
          : 'See the registered models with: berth model list',
    });
  }
}

class MissingArtifactsSignal extends Error {}

function folderSha256(files: readonly ModelFileRecord[]): string {
  const hash = createHash('sha256');
  for (const f of files) hash.update(`${f.path}\0${f.sha256}\n`);
  return hash.digest('hex');
}

function summarize(versions: number[]): string {
  if (versions.length <= 5) return versions.join(', ');
  return `${versions.slice(0, 2).join(', ')}, …, ${versions.slice(-2).join(', ')}`;
}

function argument(message: string): BerthError {
  return new BerthError('INVALID_ARGUMENT', message.charAt(0).toUpperCase() + message.slice(1));
}

function storeError(path: string, err: unknown): BerthError {
  return new BerthError('STORE_ERROR', `Cannot write "${path}": ${(err as Error).message}`, { cause: err });
}
