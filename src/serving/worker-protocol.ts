import type { MetricJson } from './metrics.js';
import type { ServeSpec } from './serve-spec.js';

/**
 * IPC messages between the supervisor (the node:cluster primary) and its workers (replicas).
 * The channel is node's JSON IPC; a `conn` message carries an accepted client socket as its handle.
 */

/** Replica counts and readiness the primary broadcasts; `/health/ready` and `/metrics` read them. */
export interface ClusterStatus {
  /** True once the serving generation finished init (every replica it started with). */
  ready: boolean;
  desired: number;
  readyReplicas: number;
  restarts: number;
}

/** Primary → worker. */
export type PrimaryMessage =
  | { type: 'start'; spec: ServeSpec; generation: number; replica: number }
  /** An accepted client socket (the message's handle); the worker answers `ack` with the same id. */
  | { type: 'conn'; id: number }
  | ({ type: 'status' } & ClusterStatus)
  /**
   * Stop taking traffic and exit once idle. `graceful` (reload, scale-down): keep-alive connections are
   * left to end by themselves (`Connection: close` on their next answer, or their idle timeout), so no
   * client request races a close; else (shutdown) idle connections are closed at once.
   */
  | { type: 'drain'; timeoutMs: number; graceful: boolean }
  | { type: 'metrics-result'; id: number; text: string }
  /** The worker answers `metrics-json` with its own metrics (the primary sums every replica's). */
  | { type: 'metrics-json-request'; id: number };

/** An error as it crosses the IPC channel. */
export interface WireError {
  code: string;
  message: string;
  stack?: string;
}

/** Worker → primary. */
export type WorkerMessage =
  /** The worker listens for messages now: the primary answers with `start`. */
  | { type: 'hello' }
  | { type: 'ready' }
  | { type: 'init-failed'; error: WireError }
  /** The worker took over the connection `id` (the primary closes its copy). */
  | { type: 'ack'; id: number }
  /** Utilization since the previous report: event-loop busy fraction (0..1) and requests in flight. */
  | { type: 'load'; busy: number; inFlight: number }
  /** A worker's `/metrics` asks for the cluster-wide text. */
  | { type: 'metrics-request'; id: number }
  /** A graceful drain began: no new requests are taken and idle connections went back to the primary. */
  | { type: 'draining' }
  /** An idle client connection (the message's handle) given back for another worker (graceful drain). */
  | { type: 'conn-back' }
  /** This worker's metrics (prom-client's JSON) for `metrics-json-request` `id`. */
  | { type: 'metrics-json'; id: number; metrics: MetricJson[] };

export function isWorkerMessage(value: unknown): value is WorkerMessage {
  return (
    typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string'
  );
}
