import { h } from './create-element.js';
import { formatClock } from './display-format.js';
import { describeError } from './error-notice.js';
import type { PageContext } from './page.js';
import { poll } from './poller.js';

const TAIL = 200;
const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
/** Fields shown elsewhere in the line, or noise. */
const SKIP = new Set(['time', 'level', 'msg', 'hostname', 'v']);

interface LogLine {
  text: string;
  level: string;
  route?: string;
}

/** Turns a pino JSON line into `14:05:09.123 INFO  message key=value ...`; other lines stay as they are. */
export function formatLogLine(raw: string): LogLine {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    return { text: raw, level: '' };
  }
  if (!entry || typeof entry !== 'object') return { text: raw, level: '' };
  const level =
    typeof entry.level === 'number'
      ? (LEVELS[entry.level] ?? String(entry.level))
      : String(entry.level ?? '');
  const time = typeof entry.time === 'number' ? formatClock(entry.time) : '';
  const extra = Object.entries(entry)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  const msg = typeof entry.msg === 'string' ? entry.msg : '';
  return {
    text: `${time} ${level.padEnd(5)} ${msg}${extra ? `  ${extra}` : ''}`,
    level,
    route: typeof entry.route === 'string' ? entry.route : undefined,
  };
}

/** The service's log tail (replicas and control plane), polled every 2 s, newest at the bottom. */
export function logPanel(ctx: PageContext, name: string): { element: HTMLElement; dispose(): void } {
  const log = h('pre', { class: 'log', id: 'service-log', tabindex: '0', 'aria-label': 'Service log' });
  const hideScrapes = h('input', { type: 'checkbox', id: 'log-hide-metrics', checked: true });
  const paused = h('input', { type: 'checkbox', id: 'log-pause' });
  const status = h('span', { class: 'muted' });
  let raw = '';
  const render = () => {
    const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
    const lines = raw
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map(formatLogLine)
      .filter((l) => !(hideScrapes.checked && l.route === '/metrics'));
    if (lines.length === 0) log.replaceChildren(h('span', { class: 'muted' }, 'The log is empty.'));
    else
      log.replaceChildren(
        ...lines.map((l) => h('div', { class: l.level ? `lvl-${l.level}` : null }, l.text)),
      );
    if (atBottom) log.scrollTop = log.scrollHeight;
  };
  hideScrapes.addEventListener('change', render);
  const stop = poll(
    async () => {
      if (paused.checked) return;
      const text = await ctx.api.text(`/api/services/${encodeURIComponent(name)}/logs?tail=${TAIL}`);
      status.textContent = `last ${TAIL} lines, every 2 s`;
      if (text === raw) return;
      raw = text;
      render();
    },
    2_000,
    (err) => {
      status.textContent = `Log unavailable: ${describeError(err)}`;
    },
  );
  const element = h(
    'section',
    { class: 'card', 'aria-labelledby': 'log-title' },
    h('h2', { id: 'log-title' }, 'Log'),
    h(
      'div',
      { class: 'toolbar' },
      h('label', null, paused, 'Pause'),
      h('label', null, hideScrapes, 'Hide /metrics requests (the charts make them)'),
      status,
    ),
    log,
  );
  return { element, dispose: stop };
}
