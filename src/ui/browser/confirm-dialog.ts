import { type Child, h } from './create-element.js';

export interface ConfirmOptions {
  title: string;
  /** Paragraphs (strings) or elements (e.g. selects whose values the caller reads afterwards). */
  body: Child[];
  confirmLabel: string;
  danger?: boolean;
  /** The user must type this text before the confirm button works (deleting). */
  typeToConfirm?: string;
}

/** A modal dialog; resolves true when the user confirmed, false on Cancel or Escape. */
export function confirmAction(options: ConfirmOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const confirm = h(
      'button',
      { type: 'submit', class: options.danger ? 'danger primary' : 'primary' },
      options.confirmLabel,
    );
    const cancel = h('button', { type: 'button' }, 'Cancel');
    let typed: HTMLInputElement | null = null;
    let typedField: HTMLElement | null = null;
    if (options.typeToConfirm !== undefined) {
      const expected = options.typeToConfirm;
      typed = h('input', { type: 'text', id: 'confirm-text', autocomplete: 'off', spellcheck: 'false' });
      typedField = h(
        'div',
        { class: 'form-field' },
        h('label', { for: 'confirm-text' }, `Type "${expected}" to confirm`),
        typed,
      );
      confirm.disabled = true;
      const input = typed;
      input.addEventListener('input', () => {
        confirm.disabled = input.value !== expected;
      });
    }
    const form = h(
      'form',
      { method: 'dialog' },
      h('h2', null, options.title),
      options.body.map((b) => (typeof b === 'string' ? h('p', null, b) : b)),
      typedField,
      h('div', { class: 'actions' }, cancel, confirm),
    );
    const dialog = h('dialog', { 'aria-label': options.title }, form);
    let confirmed = false;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (confirm.disabled) return;
      confirmed = true;
      dialog.close();
    });
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(confirmed);
    });
    document.body.append(dialog);
    dialog.showModal();
    (typed ?? cancel).focus();
  });
}
