import { ApiError } from './api-client.js';
import { h } from './create-element.js';

/** What went wrong, as one line of text (code and hint included when the API gave them). */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) return `${err.message}${err.hint ? ` Try: ${err.hint}` : ''} (${err.code})`;
  if (err instanceof Error) return err.message;
  return String(err);
}

/** An alert box for a failed action or load. */
export function errorNotice(err: unknown, prefix = ''): HTMLDivElement {
  return h('div', { class: 'notice', role: 'alert' }, `${prefix}${describeError(err)}`);
}
