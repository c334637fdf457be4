/** One file of a model version: its path inside the model (posix separators), sha256 and size in bytes. */
export interface ModelFileRecord {
  path: string;
  sha256: string;
  size: number;
}

/** A committed model version as the metadata store holds it. */
export interface ModelVersionRecord {
  name: string;
  version: number;
  /** Of a single file: the file's sha256; of a folder: sha256 of the sorted "path\0sha256\n" lines. */
  sha256: string;
  /** Sum of the file sizes, in bytes. */
  size: number;
  fileCount: number;
  /** Sorted by path. */
  files: ModelFileRecord[];
  tags: Record<string, string>;
  properties: Record<string, string>;
  description: string | null;
  /** Aliases pointing at this version, sorted. */
  aliases: string[];
  /** ISO 8601 time of registration. */
  createdAt: string;
}

/** What registration hands the metadata store; the store allocates `version`. */
export interface NewModelVersion {
  name: string;
  sha256: string;
  size: number;
  files: ModelFileRecord[];
  tags: Record<string, string>;
  properties: Record<string, string>;
  description: string | null;
  createdAt: string;
}

/**
 * Selects model versions. `tags` maps a key to the value it must have, or to `true` when
 * the key only has to be present; all entries must match.
 */
export interface ModelVersionFilter {
  name?: string;
  tags?: Record<string, string | true>;
  /** Keep only the highest matching version of each name. */
  latest?: boolean;
}
