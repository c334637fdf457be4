import type { ModelVersionFilter, ModelVersionRecord, NewModelVersion } from './model-version-record.js';

/**
 * Model metadata of a workspace: names, versions, files, tags, properties and aliases.
 * Implementations: `SqliteMetadataStore` (embedded). Every implementation passes
 * test/conformance/metadata-store.case.ts.
 *
 * Methods are synchronous: the registry runs artifact-store checks inside `createModelVersion`
 * and `deleteModelVersion` callbacks so they happen under the same write lock as the rows.
 * Every method throws `STORE_ERROR` when the underlying store fails.
 */
export interface MetadataStore {
  /**
   * Allocates the next version of `draft.name` (1 for a new name; numbers are never reused, even
   * after a delete) and inserts the version with its files, tags and properties, all in one
   * transaction serialised against every other writer of the workspace, in any process.
   * `beforeCommit(version)` runs inside that transaction; if it throws, nothing is written and the
   * error propagates. The version is visible to readers only once this method returns.
   * @returns the committed record.
   * @throws STORE_ERROR
   */
  createModelVersion(draft: NewModelVersion, beforeCommit?: (version: number) => void): ModelVersionRecord;

  /** @returns the version, or `undefined` when the name or version does not exist. */
  getModelVersion(name: string, version: number): ModelVersionRecord | undefined;

  /** @returns the highest existing version of `name`, or `undefined` when it has none. */
  getLatestModelVersion(name: string): ModelVersionRecord | undefined;

  /** @returns the version `alias` points at, or `undefined` when the alias is not set for `name`. */
  getModelVersionByAlias(name: string, alias: string): ModelVersionRecord | undefined;

  /** @returns the existing version numbers of `name`, ascending (empty when the name is unknown). */
  listVersionNumbers(name: string): number[];

  /** @returns matching versions ordered by name, then version descending. */
  listModelVersions(filter?: ModelVersionFilter): ModelVersionRecord[];

  /**
   * Sets the tags in `add` (replacing values of existing keys), then removes the keys in `remove`.
   * @returns the updated record, or `undefined` when the version does not exist.
   */
  updateModelVersionTags(
    name: string,
    version: number,
    change: { add: Record<string, string>; remove: string[] },
  ): ModelVersionRecord | undefined;

  /**
   * Points `alias` of `name` at `version`, moving it from any other version.
   * @returns the record of `version` with its aliases, or `undefined` when the version does not exist.
   */
  setModelAlias(name: string, alias: string, version: number): ModelVersionRecord | undefined;

  /**
   * Deletes a version with its files, tags, properties and aliases, in one transaction.
   * `beforeCommit(orphans)` runs inside it with the sha256 of the version's files that no other
   * version references any more; if it throws, nothing is deleted and the error propagates.
   * @returns the deleted record, or `undefined` when the version does not exist.
   */
  deleteModelVersion(
    name: string,
    version: number,
    beforeCommit?: (orphanedSha256: string[]) => void,
  ): ModelVersionRecord | undefined;

  /** @returns whether any version references a file with this sha256. */
  isArtifactReferenced(sha256: string): boolean;

  /** Releases the connection; further calls fail. */
  close(): void;
}
