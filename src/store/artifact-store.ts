/** An artifact just written or found in the store. */
export interface StoredArtifact {
  sha256: string;
  size: number;
  /** False when identical bytes were already stored (they are kept once). */
  created: boolean;
}

/**
 * Content-addressed file storage keyed by sha256 (identical files are stored once).
 * Implementations: `FsArtifactStore` (a folder). Every implementation passes
 * test/conformance/artifact-store.case.ts.
 *
 * `has` and `remove` are synchronous because the registry calls them inside metadata
 * transactions, making "this blob exists" and "this blob is gone" atomic with the rows that
 * reference it.
 */
export interface ArtifactStore {
  /**
   * Stores the bytes of the file at `sourcePath`, hashing them while copying (one pass), so that
   * the stored blob is exactly what was hashed. The blob appears under its sha256 only once
   * complete and durable (temp file, fsync, rename); a crash leaves at most a temp file.
   * @throws PATH_NOT_FOUND when the source cannot be read; STORE_ERROR when the store cannot be written.
   */
  put(sourcePath: string): Promise<StoredArtifact>;

  /** @returns whether a blob with this sha256 is stored. */
  has(sha256: string): boolean;

  /**
   * Writes the blob to `destPath` (which must not exist), verifying its sha256.
   * With `link: true` a hard link is made when the store and destination share a file system
   * (the blob is read once to verify it), else the bytes are copied and verified while copying.
   * @throws ARTIFACT_CORRUPTED when the blob is missing or its bytes no longer hash to `sha256`
   *   (nothing is left at `destPath`); STORE_ERROR when the destination cannot be written.
   */
  exportTo(sha256: string, destPath: string, options?: { link?: boolean }): Promise<void>;

  /**
   * Reads the blob and checks its bytes.
   * @throws ARTIFACT_CORRUPTED when it is missing or altered.
   */
  verify(sha256: string): Promise<void>;

  /** Deletes the blob; no-op when absent. @throws STORE_ERROR */
  remove(sha256: string): void;
}
