import type { ServiceKeys, ServiceView } from './api-types.js';
import { confirmAction } from './confirm-dialog.js';
import { copyButton } from './copy-button.js';
import { h } from './create-element.js';
import { maskKey } from './display-format.js';
import { errorNotice } from './error-notice.js';
import type { PageContext } from './page.js';
import { toast } from './toast.js';

type Which = 'primary' | 'secondary';

/** The service's two keys, masked, with Show, Copy and Regenerate (after confirmation). */
export function keysPanel(
  ctx: PageContext,
  name: string,
): { element: HTMLElement; update(service: ServiceView): void } {
  const path = `/api/services/${encodeURIComponent(name)}/keys`;
  let keys: ServiceKeys | undefined;
  const revealed: Record<Which, boolean> = { primary: false, secondary: false };
  const grid = h('div', { class: 'keys' });
  const note = h('p', { class: 'muted' });
  const problem = h('div');

  const value = (which: Which) => (which === 'primary' ? keys?.primaryKey : keys?.secondaryKey) ?? '';

  const regenerate = async (which: Which) => {
    const ok = await confirmAction({
      title: `Regenerate the ${which} key?`,
      body: [
        `Clients that send the current ${which} key get 401 once the service runs with the new one. The other key keeps working.`,
      ],
      confirmLabel: `Regenerate ${which} key`,
      danger: true,
    });
    if (!ok) return;
    try {
      const answer = await ctx.api.json<ServiceKeys & { service: ServiceView }>(
        'POST',
        `${path}/regenerate`,
        { key: which },
      );
      keys = { primaryKey: answer.primaryKey, secondaryKey: answer.secondaryKey };
      render();
      toast(
        answer.service.authEnabled
          ? `New ${which} key. It takes effect when generation ${answer.service.generation} is rolled out.`
          : `New ${which} key saved.`,
      );
    } catch (err) {
      problem.replaceChildren(errorNotice(err, `Could not regenerate the ${which} key: `));
    }
  };

  const render = () => {
    if (!keys) return;
    grid.replaceChildren(
      ...(['primary', 'secondary'] as const).flatMap((which) => {
        const shown = revealed[which];
        return [
          h('span', null, which === 'primary' ? 'Primary' : 'Secondary'),
          h('code', { class: 'value', 'data-key': which }, shown ? value(which) : maskKey(value(which))),
          h(
            'span',
            { class: 'actions' },
            h(
              'button',
              {
                type: 'button',
                class: 'small',
                'aria-pressed': String(shown),
                'aria-label': `${shown ? 'Hide' : 'Show'} the ${which} key`,
                onclick: () => {
                  revealed[which] = !revealed[which];
                  render();
                },
              },
              shown ? 'Hide' : 'Show',
            ),
            copyButton(() => value(which), `${which} key`),
            h(
              'button',
              { type: 'button', class: 'small danger', onclick: () => void regenerate(which) },
              'Regenerate…',
            ),
          ),
        ];
      }),
    );
  };

  const load = async () => {
    try {
      keys = await ctx.api.json<ServiceKeys>('GET', path);
      problem.replaceChildren();
      render();
    } catch (err) {
      problem.replaceChildren(errorNotice(err, 'Could not load the keys: '));
    }
  };
  void load();

  const element = h(
    'section',
    { class: 'card', 'aria-labelledby': 'keys-title' },
    h('h2', { id: 'keys-title' }, 'Keys'),
    note,
    problem,
    grid,
  );
  return {
    element,
    update: (service) => {
      note.textContent = service.authEnabled
        ? 'Clients send one of these as "Authorization: Bearer <key>".'
        : 'Auth is off for this service: it accepts requests without a key.';
    },
  };
}
