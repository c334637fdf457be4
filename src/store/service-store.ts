import type { ComputeType, DeploymentConfig } from '../core/config/deployment-config.js';
import type { InferenceConfig } from '../core/config/inference-config.js';

/** What a service shows as its aggregate condition (DESIGN.md vocabulary). */
export type ServiceState = 'Transitioning' | 'Healthy' | 'Unhealthy' | 'Failed' | 'Deleting';

export type ConditionType =
  | 'ModelsReady'
  | 'EnvironmentReady'
  | 'ProcessRunning'
  | 'ReplicasReady'
  | 'UpdateApplied';

/** One observed fact about a service (KServe-style); `state` is aggregated from these. */
export interface ServiceCondition {
  type: ConditionType;
  status: 'True' | 'False' | 'Unknown';
  /** CamelCase machine reason, e.g. `InitFailed`, `PortInUse`, `Restarting`. */
  reason: string;
  message: string;
  /** ISO time of the last transition of this condition. */
  at: string;
}

export interface ServiceKeys {
  primaryKey: string;
  secondaryKey: string;
}

/** The desired state of a service: what the control plane reconciles the replicas toward. */
export interface ServiceDesired {
  /** Concrete model ids `name:version`, resolved when deploying or updating. */
  models: string[];
  /** Resolved inference config (absolute paths on the control plane's machine). */
  inferenceConfig: InferenceConfig;
  deploymentConfig: DeploymentConfig;
  keys: ServiceKeys;
  /** The port the service listens on, chosen when it was deployed (stable across restarts). */
  port: number;
  /** Kubernetes services: the attached compute (`berth compute attach`) they run on. */
  compute?: string;
  /** Kubernetes services: the compute's namespace when deployed (for the scoring URI). */
  namespace?: string;
}

/** The replica process (local target) or deployment (kubernetes) that serves a service. */
export interface ServiceProcess {
  pid: number;
  port: number;
  startedAt: string;
  /** Generation of the desired state the process was started with. */
  generation: number;
}

/** A SIGHUP sent for a rolling update whose outcome is not known yet. */
export interface PendingReload {
  generation: number;
  sentAt: string;
  /** The serve state's generation when the reload was sent; success = it grew. */
  baseServeGeneration: number;
  /** The desired state being rolled out. */
  desired: ServiceDesired;
}

export interface UpdateOutcome {
  generation: number;
  outcome: 'Succeeded' | 'Failed';
  error?: string;
  at: string;
}

/** What the control plane last observed of a service. */
export interface ServiceStatus {
  state: ServiceState;
  conditions: ServiceCondition[];
  /** The latest failure (deploy, update or crash), cleared when a later change succeeds. */
  error?: string;
  /** Highest generation whose outcome (applied or failed) is known. */
  observedGeneration: number;
  /** Generation the running replicas serve (0 = none yet). */
  appliedGeneration: number;
  replicas: { desired: number; ready: number };
  process?: ServiceProcess;
  reload?: PendingReload;
  /** The desired state the replicas serve; an update that fails is rolled back to it. */
  lastApplied?: ServiceDesired;
  lastUpdate?: UpdateOutcome;
  /** Restarts of dead replica processes by the control plane. */
  restarts: number;
  /** Do not restart a dead replica process before this ISO time (crash-loop backoff). */
  nextRestartAt?: string;
}

export interface ServiceRecord {
  name: string;
  computeType: ComputeType;
  desired: ServiceDesired;
  /** Increments on every change of `desired`. */
  generation: number;
  status: ServiceStatus;
  deleting: boolean;
  createdAt: string;
  updatedAt: string;
}

/**
 * Desired and observed state of services, in the workspace store.
 * One writer (the control plane) is assumed; readers may be other processes.
 */
export interface ServiceStore {
  /**
   * Adds a service at generation 1.
   * @throws SERVICE_ALREADY_EXISTS when the name is taken.
   */
  create(input: {
    name: string;
    computeType: ComputeType;
    desired: ServiceDesired;
    status: ServiceStatus;
  }): ServiceRecord;
  /** @throws SERVICE_NOT_FOUND */
  get(name: string): ServiceRecord;
  find(name: string): ServiceRecord | undefined;
  /** All services, by name. */
  list(): ServiceRecord[];
  /**
   * Replaces the desired state and increments the generation.
   * @throws SERVICE_NOT_FOUND
   */
  updateDesired(name: string, desired: ServiceDesired): ServiceRecord;
  /**
   * Replaces the desired state of the current generation without incrementing it (a failed update rolled back).
   * @throws SERVICE_NOT_FOUND
   */
  restoreDesired(name: string, desired: ServiceDesired): ServiceRecord;
  /** @throws SERVICE_NOT_FOUND */
  updateStatus(name: string, status: ServiceStatus): ServiceRecord;
  /** @throws SERVICE_NOT_FOUND */
  markDeleting(name: string): ServiceRecord;
  /** Removes the record; no-op when absent. */
  remove(name: string): void;
  /** Names of services whose desired or served models include `name:version`. */
  servicesUsingModel(name: string, version: number): string[];
}
