import type { ServingLimits } from './serve-spec.js';

/**
 * Defaults of a scoring server's limits (docs/serving.md lists them).
 * The deployment config and `berth serve` flags override them.
 */
export const SERVE_DEFAULTS: Readonly<ServingLimits> = Object.freeze({
  scoringTimeoutMs: 60_000, // 60 s per run(), as the seed system's default → 504
  initTimeoutMs: 300_000, // 5 min for init() / model load, separate from the request timeout
  maxConcurrentRequestsPerContainer: 1_000, // requests running at once per replica; more wait in the queue
  maxQueueWaitMs: 500, // 0.5 s at most in the queue, then 503 with Retry-After
  maxBodyBytes: 100 * 1024 * 1024, // 100 MiB request body → 413 above
});

/** Port `berth serve` listens on when none is given. */
export const DEFAULT_SERVE_PORT = 5001;

/** Seconds a client is told to wait (Retry-After) after a 503 for a full queue. */
export const RETRY_AFTER_SECONDS = 1;

/** Fills missing limits with SERVE_DEFAULTS. */
export function withServeDefaults(limits: Partial<ServingLimits> | undefined): ServingLimits {
  return { ...SERVE_DEFAULTS, ...stripUndefined(limits ?? {}) };
}

function stripUndefined(limits: Partial<ServingLimits>): Partial<ServingLimits> {
  const out: Partial<ServingLimits> = {};
  for (const [k, v] of Object.entries(limits)) if (v !== undefined) (out as Record<string, number>)[k] = v;
  return out;
}
