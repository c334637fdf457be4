import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  histogramQuantile,
  MetricsHistory,
  pointBetween,
  snapshotFromText,
} from '../../src/ui/metrics-history.js';
import { parsePrometheusText } from '../../src/ui/prometheus-text.js';

/** Prometheus text as a Berth scoring service writes it (prom-client's layout). */
function metricsText(o: {
  score: number;
  errors: number;
  buckets: number[];
  ready?: number;
  metricsScrapes?: number;
}): string {
  const les = ['0.001', '0.01', '0.1', '1', '+Inf'];
  return [
    '# HELP berth_requests_total Requests answered, by route and HTTP status.',
    '# TYPE berth_requests_total counter',
    `berth_requests_total{route="/score",status="200",service="s"} ${o.score - o.errors}`,
    `berth_requests_total{route="/score",status="500",service="s"} ${o.errors}`,
    `berth_requests_total{route="/metrics",status="200",service="s"} ${o.metricsScrapes ?? 50}`,
    `berth_errors_total{route="/score",code="SCORING_FAILED",service="s"} ${o.errors}`,
    `berth_errors_total{route="/metrics",code="UNAUTHORIZED",service="s"} 7`,
    ...les.map(
      (le, i) =>
        `berth_request_duration_seconds_bucket{le="${le}",service="s",route="/score"} ${o.buckets[i]}`,
    ),
    ...les.map((le) => `berth_request_duration_seconds_bucket{le="${le}",service="s",route="/metrics"} 999`),
    'berth_requests_in_flight{service="s"} 2',
    `berth_replicas_ready{service="s"} ${o.ready ?? 2}`,
    'berth_replicas_desired{service="s"} 2',
  ].join('\n');
}

test('when Prometheus text has labels with escapes, comments and +Inf then every sample is parsed', () => {
  const samples = parsePrometheusText(
    '# HELP x y\nx_total{a="q\\"uote",b="back\\\\slash"} 3\nbucket{le="+Inf"} 4 1700000000\nbad line here\ny -Inf\n',
  );
  assert.deepEqual(samples, [
    { name: 'x_total', labels: { a: 'q"uote', b: 'back\\slash' }, value: 3 },
    { name: 'bucket', labels: { le: '+Inf' }, value: 4 },
    { name: 'y', labels: {}, value: Number.NEGATIVE_INFINITY },
  ]);
});

test('when a snapshot is taken then only scoring routes count and gauges are read', () => {
  const snap = snapshotFromText(metricsText({ score: 10, errors: 1, buckets: [1, 5, 9, 10, 10] }), 1000);
  assert.equal(snap.requests, 10);
  assert.equal(snap.errors, 1);
  assert.deepEqual(snap.buckets, [
    [0.001, 1],
    [0.01, 5],
    [0.1, 9],
    [1, 10],
    [Number.POSITIVE_INFINITY, 10],
  ]);
  assert.equal(snap.replicasReady, 2);
  assert.equal(snap.replicasDesired, 2);
  assert.equal(snap.inFlight, 2);
});

test('when a histogram is asked for quantiles then it interpolates inside the bucket like histogram_quantile', () => {
  const buckets: [number, number][] = [
    [0.01, 0],
    [0.1, 100],
    [Number.POSITIVE_INFINITY, 100],
  ];
  assert.ok(Math.abs((histogramQuantile(0.5, buckets) ?? 0) - 0.055) < 1e-9);
  assert.equal(histogramQuantile(0.5, [[0.1, 0]]), null);
  // Everything above the last finite bound: the bound is the best answer.
  assert.equal(
    histogramQuantile(0.99, [
      [0.1, 0],
      [Number.POSITIVE_INFINITY, 5],
    ]),
    0.1,
  );
});

test('when two snapshots follow each other then the point has rates and latency quantiles of the interval', () => {
  const a = snapshotFromText(metricsText({ score: 10, errors: 1, buckets: [0, 10, 10, 10, 10] }), 0);
  const b = snapshotFromText(metricsText({ score: 30, errors: 3, buckets: [0, 10, 30, 30, 30] }), 2000);
  const p = pointBetween(a, b);
  assert.equal(p.requestsPerSecond, 10);
  assert.equal(p.errorsPerSecond, 1);
  // The 20 requests of the interval all fell in (0.01, 0.1]: p50 interpolates to 55 ms.
  assert.ok(Math.abs((p.p50Ms ?? 0) - 55) < 1e-6, String(p.p50Ms));
  assert.ok((p.p99Ms ?? 0) > 95 && (p.p99Ms ?? 0) <= 100);
  assert.equal(p.replicasReady, 2);
});

test('when the counters drop between snapshots then the replicas restarted and the new counts are the increase', () => {
  const a = snapshotFromText(metricsText({ score: 100, errors: 5, buckets: [0, 100, 100, 100, 100] }), 0);
  const b = snapshotFromText(metricsText({ score: 4, errors: 0, buckets: [0, 0, 4, 4, 4] }), 1000);
  const p = pointBetween(a, b);
  assert.equal(p.requestsPerSecond, 4);
  assert.equal(p.errorsPerSecond, 0);
  assert.ok((p.p50Ms ?? 0) > 10 && (p.p50Ms ?? 0) <= 100);
});

test('when no request came in an interval then the latency is null (a gap, not zero)', () => {
  const a = snapshotFromText(metricsText({ score: 3, errors: 0, buckets: [3, 3, 3, 3, 3] }), 0);
  const b = snapshotFromText(metricsText({ score: 3, errors: 0, buckets: [3, 3, 3, 3, 3] }), 2000);
  const p = pointBetween(a, b);
  assert.equal(p.requestsPerSecond, 0);
  assert.equal(p.p50Ms, null);
});

test('when readers ask often then the service is scraped at most once per sample interval, shared by concurrent readers', async () => {
  let now = 10_000;
  let scrapes = 0;
  const history = new MetricsHistory(
    async () => {
      scrapes++;
      return metricsText({
        score: scrapes * 10,
        errors: 0,
        buckets: [0, scrapes * 10, scrapes * 10, scrapes * 10, scrapes * 10],
      });
    },
    { sampleMs: 2000, windowMs: 10_000, now: () => now },
  );
  const [first, second] = await Promise.all([history.read('s'), history.read('s')]);
  assert.equal(scrapes, 1);
  assert.equal(first.points.length, 1);
  assert.equal(second.points.length, 1);
  now += 500;
  await history.read('s');
  assert.equal(scrapes, 1, 'not due yet');
  now += 1500;
  const view = await history.read('s');
  assert.equal(scrapes, 2);
  assert.equal(view.points.length, 2);
  assert.equal(view.points[1].requestsPerSecond, 5);
  now += 20_000;
  const later = await history.read('s');
  assert.equal(later.points.length, 1, 'snapshots older than the window are dropped');
});

test('when a scrape fails then the point is empty and lastError says why', async () => {
  const history = new MetricsHistory(
    async () => {
      throw new Error('connection refused');
    },
    { sampleMs: 1 },
  );
  const view = await history.read('s');
  assert.equal(view.lastError, 'connection refused');
  assert.equal(view.points[0].replicasReady, null);
});
