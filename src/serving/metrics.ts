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

/**
 * Prometheus metrics of one scoring server (its own registry, so several servers can live in one
 * process). Names (docs/serving.md):
 * `berth_requests_total{route,status}`, `berth_request_duration_seconds{route}` (histogram),
 * `berth_errors_total{route,code}`, `berth_requests_in_flight`, `berth_queue_depth`,
 * `berth_replica_restarts`, `berth_replicas_desired`, `berth_replicas_ready`, plus prom-client's
 * default process metrics (`process_resident_memory_bytes`, CPU, event loop lag, ...).
 * Inside a node:cluster worker the registry is the one prom-client's AggregatorRegistry collects.
 */
export class ScoringMetrics {
  readonly registry: client.Registry;
  private readonly requests: client.Counter<'route' | 'status'>;
  private readonly duration: client.Histogram<'route'>;
  private readonly errors: client.Counter<'route' | 'code'>;
  /** Label objects reused per (route, status) so the hot path allocates none. */
  private readonly labelCache = new Map<string, { route: string; status: string }>();
  private readonly routeLabels = new Map<string, { route: string }>();

  constructor(service: string, sources: MetricsSources) {
    const registry = new client.Registry();
    registry.setDefaultLabels({ service });
    this.registry = registry;
    const registers = [registry];
    this.requests = new client.Counter({
      name: 'berth_requests_total',
      help: 'Requests answered, by route and HTTP status.',
      labelNames: ['route', 'status'],
      registers,
    });
    this.duration = new client.Histogram({
      name: 'berth_request_duration_seconds',
      help: 'Time from request to response, by route.',
      labelNames: ['route'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
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
    const key = route + status;
    let labels = this.labelCache.get(key);
    if (labels === undefined) {
      labels = { route, status: String(status) };
      this.labelCache.set(key, labels);
    }
    this.requests.inc(labels);
    let routeLabel = this.routeLabels.get(route);
    if (routeLabel === undefined) {
      routeLabel = { route };
      this.routeLabels.set(route, routeLabel);
    }
    this.duration.observe(routeLabel, seconds);
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
}
