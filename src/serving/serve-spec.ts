import type { InferenceConfig } from '../core/config/inference-config.js';

/** One model made available to a replica: `ctx.modelPath(name, version?)` resolves into `path`. */
export interface ServedModel {
  name: string;
  version: number;
  /** Absolute path of the model's folder (its registered files, relative layout kept). */
  path: string;
}

/** Limits of one scoring server; defaults in serving/serve-defaults.ts. */
export interface ServingLimits {
  scoringTimeoutMs: number;
  /** Load (init) timeout, separate from the request timeout. */
  initTimeoutMs: number;
  maxConcurrentRequestsPerContainer: number;
  maxQueueWaitMs: number;
  /** Largest accepted request body. */
  maxBodyBytes: number;
}

/**
 * Everything a scoring server (`berth serve`) needs; it knows nothing else about the workspace.
 * The deploy layer writes this as JSON and starts `berth serve --spec FILE`; on SIGHUP the
 * server re-reads the file and replaces its workers (rolling, new ready before old drain).
 */
export interface ServeSpec {
  /** Service name, used in logs and metrics. */
  name: string;
  models: ServedModel[];
  inferenceConfig: InferenceConfig;
  host: string;
  /** 0 = any free port (the chosen one is written to the state file). */
  port: number;
  replicas: number;
  /** Replica bounds for local autoscaling by observed utilization; absent = fixed `replicas`. */
  autoscale?: {
    minReplicas: number;
    maxReplicas: number;
    targetUtilization: number;
    refreshPeriodInSeconds: number;
  };
  limits: ServingLimits;
  /** Accepted Bearer keys; empty or absent = no auth. */
  keys?: string[];
  tls?: { certFile: string; keyFile: string };
  /** JSON-lines log file (what `berth service logs` reads). */
  logFile?: string;
  /**
   * The JSON lines go to `logFile` only, not to stdout as well (the local target, whose stdout is
   * the service's console file: each request line would be written to disk twice).
   */
  logFileOnly?: boolean;
  /** Where the primary writes its ServeState as JSON (atomic rename) whenever it changes. */
  stateFile?: string;
  /** When set, each scored request's input and output are appended as JSON lines under this folder, per day. */
  dataCollectionDir?: string;
  /** Node runtime: folder with node_modules of the built environment, put on the resolution path. */
  environmentDir?: string;
  debug?: boolean;
}

/** What a running server reports in its state file. */
export interface ServeState {
  pid: number;
  port: number;
  /** True once every current worker finished init(). */
  ready: boolean;
  replicas: { desired: number; ready: number };
  restarts: number;
  /** Increments on every successful reload. */
  generation: number;
  /**
   * Increments on every reload outcome (success, scale in place or failure), so a reader sees each
   * SIGHUP answered even when a failure repeats the previous message. Absent before the first reload.
   */
  reloads?: number;
  /** Set when the latest reload (or the first start) failed: the message, with the worker's reason. */
  error?: string;
  /** Set when the server gave up (init failed too often); the process exits after writing it. */
  failed?: boolean;
  updatedAt: string;
}
