import { parsePrometheusText } from './prometheus-text.js';

/** Data-plane route labels that are scoring requests (health, swagger and /metrics are not). */
const SCORING_ROUTES = new Set(['/score', '/v2/models/{name}/infer']);

/** One scrape of a service's `/metrics`, reduced to what the charts need. */
export interface MetricsSnapshot {
  /** Epoch ms of the scrape. */
  t: number;
  /** Why the scrape failed; the other fields are then empty. */
  error?: string;
  /** Scoring requests answered (counter). */
  requests: number;
  /** Scoring error answers (counter). */
  errors: number;
  /** Cumulative latency histogram of scoring requests: [upper bound in s, count], ascending. */
  buckets: [number, number][];
  replicasReady: number | null;
  replicasDesired: number | null;
  inFlight: number | null;
}

/** One chart point: rates and quantiles over the interval ending at `t`, gauges at `t`. */
export interface MetricsPoint {
  t: number;
  requestsPerSecond: number | null;
  errorsPerSecond: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  replicasReady: number | null;
  replicasDesired: number | null;
  inFlight: number | null;
}

/** `GET /api/services/{name}/metrics/history`. */
export interface MetricsHistoryView {
  service: string;
  /** Minimum ms between two scrapes. */
  sampleMs: number;
  /** How far back points are kept (ms). */
  windowMs: number;
  points: MetricsPoint[];
  /** Why the latest scrape failed, or null. */
  lastError: string | null;
}

/** Reduces Prometheus text of a Berth scoring service to a snapshot. */
export function snapshotFromText(text: string, t: number): MetricsSnapshot {
  const snap: MetricsSnapshot = {
    t,
    requests: 0,
    errors: 0,
    buckets: [],
    replicasReady: null,
    replicasDesired: null,
    inFlight: null,
  };
  const buckets = new Map<number, number>();
  for (const s of parsePrometheusText(text)) {
    const scoring = SCORING_ROUTES.has(s.labels.route ?? '');
    switch (s.name) {
      case 'berth_requests_total':
        if (scoring) snap.requests += s.value;
        break;
      case 'berth_errors_total':
        if (scoring) snap.errors += s.value;
        break;
      case 'berth_request_duration_seconds_bucket':
        if (scoring) {
          const le = s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels.le);
          buckets.set(le, (buckets.get(le) ?? 0) + s.value);
        }
        break;
      case 'berth_replicas_ready':
        snap.replicasReady = Math.max(snap.replicasReady ?? 0, s.value);
        break;
      case 'berth_replicas_desired':
        snap.replicasDesired = Math.max(snap.replicasDesired ?? 0, s.value);
        break;
      case 'berth_requests_in_flight':
        snap.inFlight = (snap.inFlight ?? 0) + s.value;
        break;
    }
  }
  snap.buckets = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  return snap;
}

/**
 * The q-quantile (0..1) of a cumulative histogram, interpolated linearly inside the bucket as
 * Prometheus' histogram_quantile does; null when it counted nothing. In the bucket's unit.
 */
export function histogramQuantile(q: number, buckets: [number, number][]): number | null {
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [le, count] of buckets) {
    if (count >= rank) {
      if (le === Number.POSITIVE_INFINITY) return lowerBound;
      if (count === lowerCount) return le;
      return lowerBound + ((le - lowerBound) * (rank - lowerCount)) / (count - lowerCount);
    }
    lowerBound = le;
    lowerCount = count;
  }
  return lowerBound;
}

/** Counter increase from a to b; a drop means the counter restarted (new replica processes). */
function increase(a: number, b: number): number {
  return b >= a ? b - a : b;
}

function bucketIncrease(a: [number, number][], b: [number, number][]): [number, number][] {
  const before = new Map(a);
  const reset = b.some(([le, count]) => count < (before.get(le) ?? 0));
  return b.map(([le, count]) => [le, reset ? count : count - (before.get(le) ?? 0)]);
}

/** The chart point of snapshot `b`, with rates over the interval since `a` (none without a usable `a`). */
export function pointBetween(a: MetricsSnapshot | undefined, b: MetricsSnapshot): MetricsPoint {
  const point: MetricsPoint = {
    t: b.t,
    requestsPerSecond: null,
    errorsPerSecond: null,
    p50Ms: null,
    p99Ms: null,
    replicasReady: b.error ? null : b.replicasReady,
    replicasDesired: b.error ? null : b.replicasDesired,
    inFlight: b.error ? null : b.inFlight,
  };
  if (!a || a.error || b.error || b.t <= a.t) return point;
  const seconds = (b.t - a.t) / 1000;
  point.requestsPerSecond = increase(a.requests, b.requests) / seconds;
  point.errorsPerSecond = increase(a.errors, b.errors) / seconds;
  const window = bucketIncrease(a.buckets, b.buckets);
  const p50 = histogramQuantile(0.5, window);
  const p99 = histogramQuantile(0.99, window);
  point.p50Ms = p50 === null ? null : p50 * 1000;
  point.p99Ms = p99 === null ? null : p99 * 1000;
  return point;
}

export interface MetricsHistoryOptions {
  /** Minimum ms between two scrapes of one service (default 2000). */
  sampleMs?: number;
  /** How far back snapshots are kept (ms; default 10 min). */
  windowMs?: number;
  /** A service nobody asked about for this long is forgotten (ms; default 15 min). */
  idleMs?: number;
  now?: () => number;
}

interface HistoryEntry {
  snapshots: MetricsSnapshot[];
  pending?: Promise<void>;
  lastAsked: number;
}

/**
 * Metrics of services over the last minutes, for the dashboard's charts. It scrapes a service
 * only when asked (at most once per `sampleMs`, shared by concurrent readers), so nothing runs in
 * the background and a service nobody watches is never scraped. Limits: history starts when
 * someone first looks at a service, and it lives in the control plane's memory (lost on restart).
 */
export class MetricsHistory {
  private readonly entries = new Map<string, HistoryEntry>();
  private readonly sampleMs: number;
  private readonly windowMs: number;
  private readonly idleMs: number;
  private readonly now: () => number;

  constructor(
    private readonly scrape: (service: string) => Promise<string>,
    options: MetricsHistoryOptions = {},
  ) {
    this.sampleMs = options.sampleMs ?? 2_000;
    this.windowMs = options.windowMs ?? 10 * 60_000;
    this.idleMs = options.idleMs ?? 15 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Scrapes the service when its last snapshot is older than `sampleMs`, then returns its points. */
  async read(service: string): Promise<MetricsHistoryView> {
    const now = this.now();
    this.forgetIdle(now);
    let entry = this.entries.get(service);
    if (!entry) {
      entry = { snapshots: [], lastAsked: now };
      this.entries.set(service, entry);
    }
    entry.lastAsked = now;
    const last = entry.snapshots.at(-1);
    if (!entry.pending && (!last || now - last.t >= this.sampleMs * 0.9)) {
      const target = entry;
      target.pending = this.takeSnapshot(service).then((snap) => {
        target.snapshots.push(snap);
        const oldest = snap.t - this.windowMs;
        while (target.snapshots.length > 0 && target.snapshots[0].t < oldest) target.snapshots.shift();
        target.pending = undefined;
      });
    }
    if (entry.pending) await entry.pending;
    const snaps = entry.snapshots;
    return {
      service,
      sampleMs: this.sampleMs,
      windowMs: this.windowMs,
      points: snaps.map((s, i) => pointBetween(snaps[i - 1], s)),
      lastError: snaps.at(-1)?.error ?? null,
    };
  }

  /** Drops the history of a service (deleted). */
  forget(service: string): void {
    this.entries.delete(service);
  }

  private async takeSnapshot(service: string): Promise<MetricsSnapshot> {
    try {
      const text = await this.scrape(service);
      return snapshotFromText(text, this.now());
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      return {
        t: this.now(),
        error,
        requests: 0,
        errors: 0,
        buckets: [],
        replicasReady: null,
        replicasDesired: null,
        inFlight: null,
      };
    }
  }

  private forgetIdle(now: number): void {
    for (const [name, entry] of this.entries) {
      if (now - entry.lastAsked > this.idleMs && !entry.pending) this.entries.delete(name);
    }
  }
}
