import type { ComputeType } from '../core/config/deployment-config.js';
import type { ServeSpec, ServeState } from '../serving/serve-spec.js';
import type { ServiceProcess } from '../store/service-store.js';
import type { ServicePaths } from './service-paths.js';

/** What a target sees of a service's replicas right now. */
export interface ObservedReplicas {
  /** The replica process (or deployment) recorded for the service exists. */
  running: boolean;
  /** The latest state the replicas reported, when it belongs to the recorded process. */
  serveState?: ServeState;
  /** A rolling update reported as failed since `reloadSentAt` (asked for in `observe`). */
  reloadFailure?: string;
}

/**
 * Where replicas run. Implementations: targets/local (processes here), targets/kubernetes.
 * Every method is idempotent so the controller can repeat it after a crash.
 */
export interface Target {
  readonly computeType: ComputeType;
  /** Files of a service on this target. */
  paths(name: string): ServicePaths;
  /**
   * Looks at the recorded process (none recorded = not running). Never throws for a dead process.
   * With `reloadSentAt`, also looks for the failure of the rolling update sent then.
   */
  observe(
    name: string,
    process: ServiceProcess | undefined,
    reloadSentAt?: string,
  ): Promise<ObservedReplicas>;
  /**
   * Writes the spec and starts the replicas.
   * @throws PORT_IN_USE when spec.port is taken; DEPLOYMENT_FAILED when the process cannot be started.
   */
  start(name: string, spec: ServeSpec, generation: number): Promise<ServiceProcess>;
  /** Rewrites the spec and asks the running replicas for a rolling replacement. */
  reload(name: string, spec: ServeSpec, process: ServiceProcess): Promise<void>;
  /** Rewrites the spec without telling the replicas (a failed update rolled back: the next start uses it). */
  writeSpec(name: string, spec: ServeSpec): void;
  /** Stops the replicas (drain, then kill after `timeoutMs`); a no-op when nothing runs. */
  stop(name: string, process: ServiceProcess | undefined, timeoutMs?: number): Promise<void>;
  /** Removes the service's files. */
  remove(name: string): Promise<void>;
}
