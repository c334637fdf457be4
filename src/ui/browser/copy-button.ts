import { copyText } from './copy-text.js';
import { h } from './create-element.js';
import { toast } from './toast.js';

/** A small "Copy" button; `label` names what is copied for screen readers and the toast. */
export function copyButton(text: () => string, label: string): HTMLButtonElement {
  return h(
    'button',
    {
      type: 'button',
      class: 'small',
      'aria-label': `Copy ${label}`,
      onclick: async () => {
        const ok = await copyText(text());
        toast(
          ok ? `Copied the ${label}.` : `Could not copy the ${label}; select it by hand.`,
          ok ? 'info' : 'error',
        );
      },
    },
    'Copy',
  );
}
