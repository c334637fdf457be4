import { h, svg } from './create-element.js';

export interface ChartSeries {
  label: string;
  /** [epoch ms, value or null for a gap] */
  points: [number, number | null][];
  /** Drawn dashed, so two lines differ by more than colour. */
  dashed?: boolean;
}

export interface ChartOptions {
  title: string;
  series: ChartSeries[];
  /** Right edge of the chart (epoch ms) and how much time it spans. */
  now: number;
  windowMs: number;
  /** Points further apart than this are not joined by a line. */
  maxGapMs: number;
  format(value: number): string;
  /** Lowest top of the y axis (so a flat zero line sits at the bottom). */
  minTop?: number;
  /** Text when no series has a value. */
  emptyText: string;
}

const W = 300;
const HEIGHT = 112;
const LEFT = 50;
const RIGHT = 296;
const TOP = 8;
const BOTTOM = 92;

/** 1, 2 or 5 times a power of ten, at least `v`. */
export function niceCeil(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function latest(points: [number, number | null][]): number | null {
  for (let i = points.length - 1; i >= 0; i--) if (points[i][1] !== null) return points[i][1];
  return null;
}

/** A small line chart as inline SVG with its title, latest values as text and a legend. */
export function lineChart(o: ChartOptions): HTMLElement {
  const from = o.now - o.windowMs;
  const visible = o.series.map((s) => s.points.filter(([t]) => t >= from && t <= o.now));
  const values = visible.flat().flatMap(([, v]) => (v === null ? [] : [v]));
  const top = niceCeil(Math.max(o.minTop ?? 0, ...values));
  const x = (t: number) => LEFT + ((t - from) / o.windowMs) * (RIGHT - LEFT);
  const y = (v: number) => BOTTOM - (v / top) * (BOTTOM - TOP);
  const marks: SVGElement[] = [];
  visible.forEach((points, i) => {
    const dash = o.series[i].dashed ? '5 3' : null;
    let run: [number, number][] = [];
    const flush = () => {
      if (run.length === 1) marks.push(svg('circle', { class: `s${i}`, cx: run[0][0], cy: run[0][1], r: 2 }));
      else if (run.length > 1) {
        marks.push(
          svg('polyline', {
            class: `s${i}`,
            points: run.map((p) => p.join(',')).join(' '),
            'stroke-dasharray': dash,
          }),
        );
      }
      run = [];
    };
    let prevT = Number.NEGATIVE_INFINITY;
    for (const [t, v] of points) {
      if (v === null || t - prevT > o.maxGapMs) flush();
      if (v !== null) run.push([Math.round(x(t) * 10) / 10, Math.round(y(v) * 10) / 10]);
      prevT = t;
    }
    flush();
  });
  const now = o.series.map((s) => ({ label: s.label, value: latest(s.points) }));
  const latestText = now.every((n) => n.value === null)
    ? o.emptyText
    : now
        .map(
          (n) => `${o.series.length > 1 ? `${n.label} ` : ''}${n.value === null ? '—' : o.format(n.value)}`,
        )
        .join(' · ');
  const minutes = Math.round(o.windowMs / 60_000);
  const chart = svg(
    'svg',
    {
      viewBox: `0 0 ${W} ${HEIGHT}`,
      role: 'img',
      'aria-label': `${o.title} over the last ${minutes} minutes; latest: ${latestText}`,
    },
    svg('line', { class: 'gridline', x1: LEFT, x2: RIGHT, y1: TOP, y2: TOP }),
    svg('line', { class: 'gridline', x1: LEFT, x2: RIGHT, y1: (TOP + BOTTOM) / 2, y2: (TOP + BOTTOM) / 2 }),
    svg('line', { class: 'gridline', x1: LEFT, x2: RIGHT, y1: BOTTOM, y2: BOTTOM }),
    svg('text', { class: 'axis', x: LEFT - 4, y: TOP + 4, 'text-anchor': 'end' }, o.format(top)),
    svg('text', { class: 'axis', x: LEFT - 4, y: BOTTOM + 3, 'text-anchor': 'end' }, '0'),
    svg('text', { class: 'axis', x: LEFT, y: HEIGHT - 4 }, `−${minutes} min`),
    svg('text', { class: 'axis', x: RIGHT, y: HEIGHT - 4, 'text-anchor': 'end' }, 'now'),
    marks,
  );
  const legend =
    o.series.length > 1
      ? h(
          'div',
          { class: 'legend', 'aria-hidden': 'true' },
          o.series.map((s, i) =>
            h(
              'span',
              null,
              svg(
                'svg',
                { viewBox: '0 0 22 8' },
                svg('line', {
                  class: `s${i}`,
                  x1: 0,
                  x2: 22,
                  y1: 4,
                  y2: 4,
                  'stroke-width': 2,
                  'stroke-dasharray': s.dashed ? '5 3' : null,
                }),
              ),
              ` ${s.label}`,
            ),
          ),
        )
      : null;
  return h(
    'div',
    { class: 'chart' },
    h('h3', null, o.title),
    h('div', { class: 'latest' }, latestText),
    chart,
    legend,
  );
}
