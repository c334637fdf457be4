/**
 * Berth SDK, the package entry point (`import { Workspace, Model } from 'berth'`).
 * Keep this module light: it is what `berth model ...` loads on every call.
 */

export { BatchJob } from '../batch/batch-job.js';
export type { BatchProgress, BatchRunOptions, BatchSummary } from '../batch/index.js';
export type { DeploymentConfig } from '../core/config/deployment-config.js';
export type { ErrorCode } from '../core/error-catalogue.js';
export { BerthError } from '../core/errors.js';
export type { DeployServiceRequest, KeyName, UpdateServiceRequest } from '../deploy/service-requests.js';
export type { ServiceKeysView, ServiceView } from '../deploy/service-view.js';
export type { ListModelsFilter, RegisterModelInput, TagChange } from '../registry/model-registry.js';
export type { ModelFile, ModelVersion } from '../registry/model-version.js';
export type { ServiceCondition, ServiceState } from '../store/service-store.js';
export { InferenceConfig } from './inference-config.js';
export { LocalWebservice } from './local-webservice.js';
export { Model } from './model.js';
export {
  type ModelLike,
  type ServiceKeys,
  type UpdateOptions,
  type WaitOptions,
  Webservice,
} from './webservice.js';
export { DEFAULT_WORKSPACE_DIR, Workspace } from './workspace.js';
export type { WorkspaceClient } from './workspace-client.js';
