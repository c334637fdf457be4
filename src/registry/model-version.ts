import type { ModelFileRecord, ModelVersionRecord } from '../store/model-version-record.js';

export type ModelFile = ModelFileRecord;

/**
 * A registered, immutable model version: the shape of `berth model show --json`, of the API and
 * of the SDK. `id` is `name:version`.
 */
export interface ModelVersion {
  id: string;
  name: string;
  version: number;
  /** Of a single file: the file's sha256; of a folder: sha256 of the sorted "path\0sha256\n" lines. */
  sha256: string;
  /** Total bytes of all files. */
  size: number;
  fileCount: number;
  /** Sorted by path; paths use `/` and are relative to the model folder. */
  files: ModelFile[];
  tags: Record<string, string>;
  properties: Record<string, string>;
  description: string | null;
  aliases: string[];
  /** ISO 8601 time of registration. */
  createdAt: string;
}

/** The public shape of a stored record, with its `id` first. */
export function toModelVersion(record: ModelVersionRecord): ModelVersion {
  return {
    id: `${record.name}:${record.version}`,
    name: record.name,
    version: record.version,
    sha256: record.sha256,
    size: record.size,
    fileCount: record.fileCount,
    files: record.files,
    tags: record.tags,
    properties: record.properties,
    description: record.description,
    aliases: record.aliases,
    createdAt: record.createdAt,
  };
}
