export type { ModelInput, WalkedFile } from './folder-walker.js';
export { walkModelInput } from './folder-walker.js';
export { assertValidKeyValues, parseKeyValue, parseKeyValues, parseTagFilter } from './key-value.js';
export {
  type ListModelsFilter,
  ModelRegistry,
  type RegisterModelInput,
  type TagChange,
  type UsageGuard,
} from './model-registry.js';
export { type ModelFile, type ModelVersion, toModelVersion } from './model-version.js';
