import cluster from 'node:cluster';
import client from 'prom-client';

/** Live figures the metrics read at scrape time (nothing is updated per request for these). */
export interface MetricsSources {
  inFlight(): number;
  queued(): number;
  replicaCounts?(): { desired: number; ready: number };
  replicaRestarts?(): number;
}

/** Histogram buckets of request latency, in seconds (1 ms .. 60 s). */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

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
 * time. Inside a node:cluster worker, the registry is the one prom-client's AggregatorRegistry
 * collects from.
 */
export class ScoringMetrics {
  readonly registry: client.Registry;
  private readonly tallies = new Map<string, RouteTally>();
  private readonly errors: client.Counter<'route' | 'code'>;

  constructor(service: string, sources: MetricsSources) {
    const registry = new client.Registry();
    registry.setDefaultLabels({ service });
    this.registry = registry;
    const registers = [registry];
    registry.registerMetric(this.requestsMetric() as unknown as client.Metric<string>);
    registry.registerMetric(this.latencyMetric() as unknown as client.Metric<string>);
    this.errors = new client.Counter({
      name: 'berth_errors_total',
      help: 'Error responses, by route and error code.',
      labelNames: ['route', 'code'],
      registers,
    });
    new client.Gauge({
      name: 'berth_requests_in_flight',
      help: 'Requests being scored now (queued ones included).',
      registers,
      collect() {
        this.set(sources.inFlight());
      },
    });
    new client.Gauge({
      name: 'berth_queue_depth',
      help: 'Requests waiting for a free slot (maxConcurrentRequestsPerContainer reached).',
      registers,
      collect() {
        this.set(sources.queued());
      },
    });
    new client.Gauge({
      name: 'berth_replica_restarts',
      help: 'Replica processes replaced since the service started (set by the supervisor).',
      registers,
      aggregator: 'max',
      collect() {
        this.set(sources.replicaRestarts?.() ?? 0);
      },
    });
    new client.Gauge({
      name: 'berth_replicas_desired',
      help: 'Replica processes the service should run.',
      registers,
      aggregator: 'max',
      collect() {
        this.set(sources.replicaCounts?.().desired ?? 1);
      },
    });
    new client.Gauge({
      name: 'berth_replicas_ready',
      help: 'Replica processes that finished init and take traffic.',
      registers,
      aggregator: 'max',
      collect() {
        this.set(sources.replicaCounts?.().ready ?? 1);
      },
    });
    client.collectDefaultMetrics({ register: registry });
    if (cluster.isWorker) client.AggregatorRegistry.setRegistries([registry]);
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
    this.errors.inc({ route, code });
  }

  /** The Prometheus text exposition of this server's registry. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private requestsMetric(): ExposedMetric {
    const tallies = this.tallies;
    const metric: ExposedMetric = {
      name: 'berth_requests_total',
      help: 'Requests answered, by route and HTTP status.',
      type: 'counter',
      aggregator: 'sum',
      async get() {
        const values: MetricValue[] = [];
        for (const t of tallies.values()) {
          for (const [status, value] of t.byStatus)
            values.push({ value, labels: { route: t.route, status: String(status) } });
        }
        return {
          name: metric.name,
          help: metric.help,
          type: metric.type,
          values,
          aggregator: metric.aggregator,
        };
      },
      reset() {
        for (const t of tallies.values()) t.byStatus.clear();
      },
    };
    return metric;
  }

  private latencyMetric(): ExposedMetric {
    const tallies = this.tallies;
    const name = 'berth_request_duration_seconds';
    const metric: ExposedMetric = {
      name,
      help: 'Time from request to response, by route.',
      type: 'histogram',
      aggregator: 'sum',
      async get() {
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
        return { name, help: metric.help, type: metric.type, values, aggregator: metric.aggregator };
      },
      reset() {
        for (const t of tallies.values()) {
          t.buckets.fill(0);
          t.sum = 0;
          t.count = 0;
        }
      },
    };
    return metric;
  }
}
