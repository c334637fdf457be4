import type client from 'prom-client';

/** Live figures the metrics read at scrape time (nothing is updated per request for these). */
export interface MetricsSources {
  inFlight(): number;
  queued(): number;
  replicaCounts?(): { desired: number; ready: number };
  replicaRestarts?(): number;
}

/** Histogram buckets of request latency, in seconds (1 ms .. 60 s). */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** prom-client's Registry.PROMETHEUS_CONTENT_TYPE (known before prom-client is loaded). */
const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Per-route tallies, updated per request with plain arithmetic. */
interface RouteTally {
  route: string;
  byStatus: Map<number, number>;
  /** Non-cumulative bucket counts; the last slot is +Inf. */
  buckets: Float64Array;
  sum: number;
  count: number;
}

interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/** One metric as prom-client's `getMetricsAsJSON()` gives it (what the supervisor aggregates). */
export type MetricJson = Awaited<ReturnType<client.Registry['getMetricsAsJSON']>>[number];

/**
 * A metric that prom-client's Registry (and its cluster AggregatorRegistry) can expose: `get()`
 * returns the same shape prom-client's own metrics return.
 */
interface ExposedMetric {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: string; values: MetricValue[]; aggregator: string }>;
  reset(): void;
}

/**
 * Prometheus metrics of one scoring server (its own registry, so several servers can live in one
 * process). Names (docs/serving.md):
 * `berth_requests_total{route,status}`, `berth_request_duration_seconds{route}` (histogram),
 * `berth_errors_total{route,code}`, `berth_requests_in_flight`, `berth_queue_depth`,
 * `berth_replica_restarts`, `berth_replicas_desired`, `berth_replicas_ready`, plus prom-client's
 * default process metrics (`process_resident_memory_bytes`, CPU, event loop lag, ...).
 *
 * The per-request path is a few additions on plain numbers; prom-client formats them at scrape
 * time. prom-client itself (~40 ms of imports, a fifth of a replica's start) is loaded only when
 * `startCollecting()` or the first scrape asks for the registry, so a replica's first answer does
 * not wait for it; its default metrics (GC, event loop lag) count from then on.
 */
export class ScoringMetrics {
  readonly contentType = PROMETHEUS_CONTENT_TYPE;
  private readonly tallies = new Map<string, RouteTally>();
  /** `route code` → count of error answers */
  private readonly errorTallies = new Map<string, { route: string; code: string; count: number }>();
  private built: Promise<client.Registry> | undefined;

  constructor(
    private readonly service: string,
    private readonly sources: MetricsSources,
  ) {}

  /** Loads prom-client and builds the registry now (in the background) rather than at the first scrape. */
  startCollecting(): void {
    this.registry().catch(() => {});
  }

  /** The registry, built once (prom-client is imported on first use). */
  registry(): Promise<client.Registry> {
    this.built ??= import('prom-client').then(({ default: prom }) => this.build(prom));
    return this.built;
  }

  private build(prom: typeof client): client.Registry {
    const sources = this.sources;
    const registry = new prom.Registry();
    registry.setDefaultLabels({ service: this.service });
    const registers = [registry];
    registry.registerMetric(this.requestsMetric() as unknown as client.Metric<string>);
    registry.registerMetric(this.latencyMetric() as unknown as client.Metric<string>);
    registry.registerMetric(this.errorsMetric() as unknown as client.Metric<string>);
    new prom.Gauge({
      name: 'berth_requests_in_flight',
      help: 'Requests being scored now (queued ones included).',
      registers,
      collect() {
        this.set(sources.inFlight());
      },
    });
    new prom.Gauge({
      name: 'berth_queue_depth',
      help: 'Requests waiting for a free slot (maxConcurrentRequestsPerContainer reached).',
      registers,
      collect() {
        this.set(sources.queued());
      },
    });
    new prom.Gauge({
      name: 'berth_replica_restarts',
      help: 'Replica processes replaced since the service started (set by the supervisor).',
      registers,
      aggregator: 'max',
      collect() {
        this.set(sources.replicaRestarts?.() ?? 0);
      },
    });
    new prom.Gauge({
      name: 'berth_replicas_desired',
      help: 'Replica processes the service should run.',
      registers,
      aggregator: 'max',
      collect() {
        this.set(sources.replicaCounts?.().desired ?? 1);
      },
    });
    new prom.Gauge({
      name: 'berth_replicas_ready',
      help: 'Replica processes that finished init and take traffic.',
      registers,
      aggregator: 'max',
      collect() {
        this.set(sources.replicaCounts?.().ready ?? 1);
      },
    });
    prom.collectDefaultMetrics({ register: registry });
    return registry;
  }

  /** Counts one answered request; `seconds` is its latency. */
  observe(route: string, status: number, seconds: number): void {
    let tally = this.tallies.get(route);
    if (tally === undefined) {
      tally = {
        route,
        byStatus: new Map(),
        buckets: new Float64Array(LATENCY_BUCKETS.length + 1),
        sum: 0,
        count: 0,
      };
      this.tallies.set(route, tally);
    }
    tally.byStatus.set(status, (tally.byStatus.get(status) ?? 0) + 1);
    let b = 0;
    while (b < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[b]) b++;
    tally.buckets[b]++;
    tally.sum += seconds;
    tally.count++;
  }

  /** Counts one error answer by its Berth error code. */
  error(route: string, code: string): void {
    const key = `${route} ${code}`;
    const tally = this.errorTallies.get(key);
    if (tally === undefined) this.errorTallies.set(key, { route, code, count: 1 });
    else tally.count++;
  }

  /** The Prometheus text exposition of this server's registry. */
  async text(): Promise<string> {
    return (await this.registry()).metrics();
  }

  /** This server's metrics as prom-client's JSON (the supervisor sums the replicas'). */
  async json(): Promise<MetricJson[]> {
    return (await this.registry()).getMetricsAsJSON();
  }

  private errorsMetric(): ExposedMetric {
    const tallies = this.errorTallies;
    return exposedMetric(
      'berth_errors_total',
      'Error responses, by route and error code.',
      'counter',
      () => [...tallies.values()].map((t) => ({ value: t.count, labels: { route: t.route, code: t.code } })),
      () => tallies.clear(),
    );
  }

  private requestsMetric(): ExposedMetric {
    const tallies = this.tallies;
    return exposedMetric(
      'berth_requests_total',
      'Requests answered, by route and HTTP status.',
      'counter',
      () => {
        const values: MetricValue[] = [];
        for (const t of tallies.values()) {
          for (const [status, value] of t.byStatus)
            values.push({ value, labels: { route: t.route, status: String(status) } });
        }
        return values;
      },
      () => {
        for (const t of tallies.values()) t.byStatus.clear();
      },
    );
  }

  private latencyMetric(): ExposedMetric {
    const tallies = this.tallies;
    const name = 'berth_request_duration_seconds';
    return exposedMetric(
      name,
      'Time from request to response, by route.',
      'histogram',
      () => {
        const values: MetricValue[] = [];
        for (const t of tallies.values()) {
          let acc = 0;
          for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
            acc += t.buckets[i];
            values.push({
              value: acc,
              labels: { le: LATENCY_BUCKETS[i], route: t.route },
              metricName: `${name}_bucket`,
            });
          }
          values.push({
            value: t.count,
            labels: { le: '+Inf', route: t.route },
            metricName: `${name}_bucket`,
          });
          values.push({ value: t.sum, labels: { route: t.route }, metricName: `${name}_sum` });
          values.push({ value: t.count, labels: { route: t.route }, metricName: `${name}_count` });
        }
        return values;
      },
      () => {
        for (const t of tallies.values()) {
          t.buckets.fill(0);
          t.sum = 0;
          t.count = 0;
        }
      },
    );
  }
}

/** A metric computed from Berth's own tallies at scrape time, in the shape prom-client's registry takes. */
function exposedMetric(
  name: string,
  help: string,
  type: ExposedMetric['type'],
  values: () => MetricValue[],
  reset: () => void,
): ExposedMetric {
  return {
    name,
    help,
    type,
    aggregator: 'sum',
    get: async () => ({ name, help, type, values: values(), aggregator: 'sum' }),
    reset,
  };
}
