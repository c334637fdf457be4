import type { ModelVersion, ServiceView } from './api-types.js';
import { copyButton } from './copy-button.js';
import { h } from './create-element.js';
import { formatBytes, formatDateTime } from './display-format.js';
import { errorNotice } from './error-notice.js';
import type { Page, PageContext } from './page.js';
import { poll } from './poller.js';
import { serviceHref } from './router.js';

const COLUMNS = ['Version', 'Tags', 'Aliases', 'Size', 'sha256', 'Created', 'Used by'];

/** `key` or `key=value` terms, separated by spaces or commas; a version matches when it has them all. */
export function matchesTags(tags: Record<string, string>, filter: string): boolean {
  const terms = filter.split(/[\s,]+/).filter(Boolean);
  return terms.every((term) => {
    const eq = term.indexOf('=');
    if (eq < 0) return Object.hasOwn(tags, term);
    return tags[term.slice(0, eq)] === term.slice(eq + 1);
  });
}

function chips(items: string[]): HTMLElement {
  if (items.length === 0) return h('span', { class: 'muted' }, '—');
  return h(
    'span',
    { class: 'chips' },
    items.map((t) => h('span', { class: 'chip' }, t)),
  );
}

function versionRow(m: ModelVersion, latest: boolean, usedBy: string[]): HTMLTableRowElement {
  const td = (i: number, ...content: (Node | string)[]) =>
    h('td', { 'data-label': COLUMNS[i] }, h('div', null, ...content));
  return h(
    'tr',
    { 'data-model': m.id },
    td(
      0,
      h('strong', null, `${m.version}`),
      latest ? h('span', { class: 'muted' }, ' (latest)') : '',
      m.description ? h('div', { class: 'muted' }, m.description) : '',
    ),
    td(1, chips(Object.entries(m.tags).map(([k, v]) => (v === '' ? k : `${k}=${v}`)))),
    td(2, chips(m.aliases.map((a) => `@${a}`))),
    td(
      3,
      formatBytes(m.size),
      h('div', { class: 'muted' }, `${m.fileCount} file${m.fileCount === 1 ? '' : 's'}`),
    ),
    td(
      4,
      h('code', { title: m.sha256 }, m.sha256.slice(0, 12)),
      ' ',
      copyButton(() => m.sha256, `sha256 of ${m.id}`),
    ),
    td(5, h('time', { datetime: m.createdAt }, formatDateTime(m.createdAt))),
    td(
      6,
      usedBy.length === 0
        ? h('span', { class: 'muted' }, 'no service')
        : h(
            'span',
            { class: 'chips' },
            usedBy.map((s) => h('a', { href: serviceHref(s) }, s)),
          ),
    ),
  );
}

/** Every model name with its versions, searchable by name and tag, with the services using each version. */
export function modelsPage(ctx: PageContext, query: URLSearchParams): Page {
  const nameFilter = h('input', {
    type: 'search',
    id: 'model-name-filter',
    value: query.get('name') ?? '',
    placeholder: 'e.g. iris',
  });
  const tagFilter = h('input', {
    type: 'search',
    id: 'model-tag-filter',
    value: query.get('tag') ?? '',
    placeholder: 'key or key=value',
  });
  const summary = h('p', { class: 'muted', id: 'models-summary' }, 'Loading…');
  const problem = h('div');
  const list = h('div', { id: 'model-list' });
  let models: ModelVersion[] = [];
  let services: ServiceView[] = [];
  let loaded = false;

  const render = () => {
    if (!loaded) return;
    const name = nameFilter.value.trim().toLowerCase();
    const tag = tagFilter.value.trim();
    const shown = models.filter((m) => m.name.toLowerCase().includes(name) && matchesTags(m.tags, tag));
    const usage = new Map<string, string[]>();
    for (const s of services) for (const id of s.models) usage.set(id, [...(usage.get(id) ?? []), s.name]);
    const groups = new Map<string, ModelVersion[]>();
    for (const m of shown) groups.set(m.name, [...(groups.get(m.name) ?? []), m]);
    const names = new Set(models.map((m) => m.name));
    summary.textContent =
      shown.length === models.length
        ? `${names.size} model${names.size === 1 ? '' : 's'}, ${models.length} version${models.length === 1 ? '' : 's'}`
        : `${shown.length} of ${models.length} versions match`;
    if (groups.size === 0) {
      list.replaceChildren(
        h(
          'div',
          { class: 'card empty' },
          models.length === 0
            ? 'No models registered yet. Register one with berth model register -n NAME -p PATH.'
            : 'No model matches the search.',
        ),
      );
      return;
    }
    list.replaceChildren(
      ...[...groups.entries()].map(([modelName, versions]) => {
        const sorted = [...versions].sort((a, b) => b.version - a.version);
        const latest = Math.max(...models.filter((m) => m.name === modelName).map((m) => m.version));
        return h(
          'section',
          { class: 'card model-group', 'data-model-name': modelName },
          h(
            'h2',
            null,
            modelName,
            h('span', { class: 'muted' }, `${sorted.length} version${sorted.length === 1 ? '' : 's'} shown`),
          ),
          h(
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
                  COLUMNS.map((c) => h('th', { scope: 'col' }, c)),
                ),
              ),
              h(
                'tbody',
                null,
                sorted.map((m) => versionRow(m, m.version === latest, usage.get(m.id) ?? [])),
              ),
            ),
          ),
        );
      }),
    );
  };

  const remember = () => {
    const q = new URLSearchParams();
    if (nameFilter.value.trim()) q.set('name', nameFilter.value.trim());
    if (tagFilter.value.trim()) q.set('tag', tagFilter.value.trim());
    const s = q.toString();
    history.replaceState(history.state, '', s ? `#/models?${s}` : '#/models');
    render();
  };
  nameFilter.addEventListener('input', remember);
  tagFilter.addEventListener('input', remember);

  let shownKey = '';
  const stop = poll(
    async () => {
      const [m, s] = await Promise.all([
        ctx.api.json<ModelVersion[]>('GET', '/api/models'),
        ctx.api.json<ServiceView[]>('GET', '/api/services'),
      ]);
      problem.replaceChildren();
      const key = JSON.stringify([m, s.map((x) => [x.name, x.models])]);
      if (key === shownKey) return;
      shownKey = key;
      models = m;
      services = s;
      loaded = true;
      render();
    },
    5_000,
    (err) => problem.replaceChildren(errorNotice(err, 'Could not load the models: ')),
  );

  const element = h(
    'section',
    null,
    h('div', { class: 'page-head' }, h('div', null, h('h1', null, 'Models'), summary)),
    h(
      'form',
      { class: 'filters', role: 'search', onsubmit: (e: Event) => e.preventDefault() },
      h('label', { for: 'model-name-filter' }, 'Name', nameFilter),
      h('label', { for: 'model-tag-filter' }, 'Tag', tagFilter),
    ),
    problem,
    list,
  );
  return { element, title: 'Models', dispose: stop };
}
