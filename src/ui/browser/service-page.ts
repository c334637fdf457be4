import { ApiError } from './api-client.js';
import type { JsonSchema, ServiceView } from './api-types.js';
import { copyButton } from './copy-button.js';
import { h } from './create-element.js';
import { formatDateTime } from './display-format.js';
import { errorNotice } from './error-notice.js';
import { keysPanel } from './keys-panel.js';
import { logPanel } from './log-panel.js';
import { metricsPanel } from './metrics-panel.js';
import type { Page, PageContext } from './page.js';
import { poll } from './poller.js';
import { modelsHref } from './router.js';
import { scorePanel } from './score-panel.js';
import { deleteService, updateModelVersions } from './service-actions.js';
import { stateBadge } from './state-badge.js';

function rolloutText(s: ServiceView): string {
  if (s.generation > s.observedGeneration) return `rolling out generation ${s.generation}…`;
  if (!s.lastUpdate) return `generation ${s.generation}, none since the deployment`;
  const u = s.lastUpdate;
  return `generation ${u.generation} ${u.outcome === 'Succeeded' ? 'succeeded' : 'failed'} at ${formatDateTime(u.at)}${u.error ? `: ${u.error}` : ''}`;
}

function overview(s: ServiceView): HTMLElement {
  const row = (term: string, ...value: (Node | string)[]) => [h('dt', null, term), h('dd', null, ...value)];
  return h(
    'dl',
    { class: 'kv', id: 'service-overview' },
    row(
      'Scoring URI',
      h('code', null, s.scoringUri),
      ' ',
      copyButton(() => s.scoringUri, 'scoring URI'),
    ),
    row('Swagger URI', h('code', null, s.swaggerUri)),
    row(
      'Models',
      h(
        'span',
        { class: 'chips' },
        s.models.map((m) => h('a', { class: 'chip', href: modelsHref({ name: m.split(':')[0] }) }, m)),
      ),
    ),
    row('Compute', s.computeType),
    row('Runtime', s.runtime),
    row('Replicas', `${s.replicas.ready} of ${s.replicas.desired} ready`),
    row('Auth', s.authEnabled ? 'key required' : 'off (no key needed)'),
    row('Last update', rolloutText(s)),
    row('Restarts', String(s.restarts)),
    row('Created', formatDateTime(s.createdAt)),
    row('Updated', formatDateTime(s.updatedAt)),
  );
}

function conditionsTable(s: ServiceView): HTMLElement {
  if (s.conditions.length === 0) return h('p', { class: 'muted' }, 'No conditions observed yet.');
  const cols = ['Condition', 'Status', 'Reason', 'Message', 'Since'];
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'grid stacked' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          cols.map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      h(
        'tbody',
        null,
        s.conditions.map((c) =>
          h(
            'tr',
            null,
            [c.type, c.status, c.reason, c.message, formatDateTime(c.at)].map((v, i) =>
              h('td', { 'data-label': cols[i] }, h('div', null, v)),
            ),
          ),
        ),
      ),
    ),
  );
}

const json = (v: unknown) => h('pre', { class: 'code' }, JSON.stringify(v, null, 2));

/** One service: state, overview, try-it form, live charts and log, keys, configs and OpenAPI document; update and delete. */
export function servicePage(ctx: PageContext, name: string): Page {
  const path = `/api/services/${encodeURIComponent(name)}`;
  const badge = h('span', { id: 'service-state' });
  const subtitle = h('p', { class: 'muted' });
  const alert = h('div');
  const updateButton = h(
    'button',
    { type: 'button', id: 'update-button', disabled: true },
    'Update model version…',
  );
  const deleteButton = h(
    'button',
    { type: 'button', class: 'danger', id: 'delete-button', disabled: true },
    'Delete…',
  );
  const overviewHost = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  const conditionsHost = h('div');
  const configsHost = h('div', { class: 'grid2' });
  const docHost = h('div', null, h('p', { class: 'muted' }, 'Loaded once the service is ready.'));
  const keys = keysPanel(ctx, name);
  const score = scorePanel(ctx, name);
  const metrics = metricsPanel(ctx, name);
  const logs = logPanel(ctx, name);
  let current: ServiceView | undefined;
  let docState: 'none' | 'loading' | 'loaded' = 'none';
  let gone = false;
  let shown = '';

  const loadDocument = async (s: ServiceView) => {
    if (docState !== 'none' || (s.state !== 'Healthy' && s.state !== 'Unhealthy')) return;
    docState = 'loading';
    try {
      const doc = await ctx.api.json<JsonSchema>('GET', `${path}/swagger.json`);
      docState = 'loaded';
      score.setDocument(doc);
      docHost.replaceChildren(
        h('details', null, h('summary', null, 'Show the OpenAPI document (swagger.json)'), json(doc)),
      );
    } catch (err) {
      docState = 'none';
      docHost.replaceChildren(errorNotice(err, 'The OpenAPI document is not available: '));
      if (s.state === 'Healthy') score.setDocument(null);
    }
  };

  const stopBody = () => {
    stop();
    metrics.dispose();
    logs.dispose();
  };

  const show = (s: ServiceView) => {
    const first = !current;
    current = s;
    badge.replaceChildren(stateBadge(s.state));
    subtitle.textContent = s.description ?? `${s.runtime} runtime on ${s.computeType} compute`;
    alert.replaceChildren(
      ...(s.error
        ? [h('div', { class: 'notice', role: 'alert', id: 'service-error' }, `Error: ${s.error}`)]
        : []),
    );
    updateButton.disabled = s.state === 'Deleting';
    if (deleteButton.textContent !== 'Deleting…') deleteButton.disabled = s.state === 'Deleting';
    overviewHost.replaceChildren(overview(s));
    conditionsHost.replaceChildren(conditionsTable(s));
    keys.update(s);
    score.setService(s);
    if (first) {
      configsHost.replaceChildren(
        h('section', { class: 'card' }, h('h2', null, 'Inference config'), json(s.inferenceConfig)),
        h('section', { class: 'card' }, h('h2', null, 'Deployment config'), json(s.deploymentConfig)),
      );
    }
    void loadDocument(s);
  };

  const stop = poll(
    async () => {
      if (gone) return;
      const s = await ctx.api.json<ServiceView>('GET', path);
      // Re-render only on a change, so focus (e.g. on a Copy button) survives the refresh.
      const key = JSON.stringify(s);
      if (key === shown) return;
      shown = key;
      show(s);
    },
    2_000,
    (err) => {
      if (err instanceof ApiError && err.code === 'SERVICE_NOT_FOUND') {
        gone = true;
        stopBody();
        element.replaceChildren(
          h('h1', null, name),
          h(
            'div',
            { class: 'notice info' },
            `Service "${name}" does not exist (any more). `,
            h('a', { href: '#/services' }, 'See all services'),
          ),
        );
        return;
      }
      shown = '';
      alert.replaceChildren(errorNotice(err, 'Could not load the service: '));
    },
  );

  updateButton.addEventListener('click', () => {
    if (current) void updateModelVersions(ctx, current);
  });
  deleteButton.addEventListener('click', async () => {
    if (!current) return;
    if (await deleteService(ctx, current, deleteButton)) {
      gone = true;
      stopBody();
      location.hash = '#/services';
    }
  });

  const element = h(
    'section',
    { 'data-service-page': name },
    h(
      'div',
      { class: 'page-head' },
      h('div', null, h('h1', null, h('span', null, name), badge), subtitle),
      h('div', { class: 'actions' }, updateButton, deleteButton),
    ),
    alert,
    h(
      'div',
      { class: 'grid2' },
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'overview-title' },
        h('h2', { id: 'overview-title' }, 'Overview'),
        overviewHost,
      ),
      keys.element,
    ),
    h('div', { class: 'stack' }, score.element, metrics.element, logs.element),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'conditions-title' },
      h('h2', { id: 'conditions-title' }, 'Conditions'),
      conditionsHost,
    ),
    configsHost,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'doc-title' },
      h('h2', { id: 'doc-title' }, 'OpenAPI document'),
      docHost,
    ),
  );
  return { element, title: name, dispose: stopBody };
}
