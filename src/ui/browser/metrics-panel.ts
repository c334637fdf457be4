import type { MetricsHistoryView, MetricsPoint } from './api-types.js';
import { h } from './create-element.js';
import { formatMs, formatNumber } from './display-format.js';
import { describeError } from './error-notice.js';
import { lineChart } from './line-chart.js';
import type { PageContext } from './page.js';
import { poll } from './poller.js';

/** What the charts span. */
const WINDOW_MS = 5 * 60_000;

function series(points: MetricsPoint[], pick: (p: MetricsPoint) => number | null): [number, number | null][] {
  return points.map((p) => [p.t, pick(p)]);
}

/**
 * Live charts of a service (requests/s, p50/p99 latency, errors/s, replicas) over the last
 * minutes, from `GET /api/services/{name}/metrics/history`, refreshed every 2 s.
 */
export function metricsPanel(ctx: PageContext, name: string): { element: HTMLElement; dispose(): void } {
  const charts = h('div', { class: 'charts', id: 'metrics-charts' });
  const status = h('p', { class: 'muted', id: 'metrics-status' }, 'Collecting…');
  const element = h(
    'section',
    { class: 'card', 'aria-labelledby': 'metrics-title' },
    h('h2', { id: 'metrics-title' }, 'Metrics, last 5 minutes'),
    status,
    charts,
  );
  const draw = (view: MetricsHistoryView) => {
    const now = Date.now();
    const common = { now, windowMs: WINDOW_MS, maxGapMs: view.sampleMs * 4 };
    const p = view.points;
    charts.replaceChildren(
      lineChart({
        ...common,
        title: 'Requests per second',
        series: [{ label: 'requests/s', points: series(p, (x) => x.requestsPerSecond) }],
        format: (v) => `${formatNumber(v)}/s`,
        minTop: 1,
        emptyText: 'no data yet',
      }),
      lineChart({
        ...common,
        title: 'Latency',
        series: [
          { label: 'p50', points: series(p, (x) => x.p50Ms) },
          { label: 'p99', points: series(p, (x) => x.p99Ms), dashed: true },
        ],
        format: formatMs,
        minTop: 1,
        emptyText: 'no requests in the last interval',
      }),
      lineChart({
        ...common,
        title: 'Errors per second',
        series: [{ label: 'errors/s', points: series(p, (x) => x.errorsPerSecond) }],
        format: (v) => `${formatNumber(v)}/s`,
        minTop: 1,
        emptyText: 'no data yet',
      }),
      lineChart({
        ...common,
        title: 'Replicas',
        series: [
          { label: 'ready', points: series(p, (x) => x.replicasReady) },
          { label: 'desired', points: series(p, (x) => x.replicasDesired), dashed: true },
        ],
        format: (v) => formatNumber(v),
        minTop: 1,
        emptyText: 'no data yet',
      }),
    );
    const seconds = Math.round(view.sampleMs / 1000);
    status.textContent = view.lastError
      ? `Metrics unavailable right now: ${view.lastError}`
      : `Sampled from the service's /metrics every ${seconds} s while this page is open (scoring routes only).`;
  };
  const stop = poll(
    async () =>
      draw(
        await ctx.api.json<MetricsHistoryView>(
          'GET',
          `/api/services/${encodeURIComponent(name)}/metrics/history`,
        ),
      ),
    2_000,
    (err) => {
      status.textContent = `Metrics unavailable right now: ${describeError(err)}`;
    },
  );
  return { element, dispose: stop };
}
