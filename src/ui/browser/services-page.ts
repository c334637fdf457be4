import type { ServiceView } from './api-types.js';
import { copyButton } from './copy-button.js';
import { h } from './create-element.js';
import { errorNotice } from './error-notice.js';
import type { Page, PageContext } from './page.js';
import { poll } from './poller.js';
import { modelsHref, serviceHref } from './router.js';
import { stateBadge } from './state-badge.js';

const COLUMNS = ['Name', 'State', 'Compute', 'Runtime', 'Models', 'Replicas ready', 'Scoring URI'];

function cell(label: string, ...content: (Node | string)[]): HTMLTableCellElement {
  return h('td', { 'data-label': label }, h('div', null, ...content));
}

function serviceRow(s: ServiceView): HTMLTableRowElement {
  const [name, state, compute, runtime, models, replicas, uri] = COLUMNS;
  return h(
    'tr',
    { 'data-service': s.name },
    cell(name, h('a', { href: serviceHref(s.name) }, s.name)),
    cell(state, stateBadge(s.state)),
    cell(compute, s.computeType),
    cell(runtime, s.runtime),
    cell(
      models,
      h(
        'span',
        { class: 'chips' },
        s.models.map((m) => h('a', { class: 'chip', href: modelsHref({ name: m.split(':')[0] }) }, m)),
      ),
    ),
    cell(
      replicas,
      h(
        'span',
        { 'aria-label': `${s.replicas.ready} of ${s.replicas.desired} replicas ready` },
        `${s.replicas.ready} / ${s.replicas.desired}`,
      ),
    ),
    cell(
      uri,
      h('code', null, s.scoringUri),
      ' ',
      copyButton(() => s.scoringUri, `scoring URI of ${s.name}`),
    ),
  );
}

/** Every service with its state, compute type, models, replicas and scoring URI (refreshed every 3 s). */
export function servicesPage(ctx: PageContext): Page {
  const summary = h('p', { class: 'muted', id: 'services-summary' }, 'Loading…');
  const problem = h('div');
  const rows = h('tbody');
  const table = h(
    'table',
    { class: 'grid stacked', id: 'services-table' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        COLUMNS.map((c) => h('th', { scope: 'col' }, c)),
      ),
    ),
    rows,
  );
  const empty = h(
    'div',
    { class: 'empty', hidden: true },
    h('p', null, 'No services yet.'),
    h(
      'p',
      null,
      'Deploy one with ',
      h('code', null, 'berth model deploy -n NAME -m MODEL:VERSION --ic inferenceconfig.json'),
      '.',
    ),
  );
  const element = h(
    'section',
    null,
    h('div', { class: 'page-head' }, h('div', null, h('h1', null, 'Services'), summary)),
    problem,
    h('div', { class: 'card' }, h('div', { class: 'table-wrap' }, table), empty),
  );
  let shown = '';
  const stop = poll(
    async () => {
      const services = await ctx.api.json<ServiceView[]>('GET', '/api/services');
      problem.replaceChildren();
      const key = JSON.stringify(
        services.map((s) => [s.name, s.state, s.computeType, s.runtime, s.models, s.replicas, s.scoringUri]),
      );
      if (key === shown) return;
      shown = key;
      rows.replaceChildren(...services.map(serviceRow));
      const healthy = services.filter((s) => s.state === 'Healthy').length;
      summary.textContent = `${services.length} service${services.length === 1 ? '' : 's'}, ${healthy} healthy`;
      table.hidden = services.length === 0;
      empty.hidden = services.length > 0;
    },
    3_000,
    (err) => problem.replaceChildren(errorNotice(err, 'Could not load the services: ')),
  );
  return { element, title: 'Services', dispose: stop };
}
