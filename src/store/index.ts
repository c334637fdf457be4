export type { ArtifactStore, StoredArtifact } from './artifact-store.js';
export type { MetadataStore } from './metadata-store.js';
export type {
  ModelFileRecord,
  ModelVersionFilter,
  ModelVersionRecord,
  NewModelVersion,
} from './model-version-record.js';
export { openWorkspaceStores, type WorkspaceStores } from './open-store.js';
export { TempArea } from './temp-area.js';
