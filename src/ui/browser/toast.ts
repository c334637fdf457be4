import { h } from './create-element.js';

/** Shows a short message in the page's live region (read out by screen readers). */
export function toast(message: string, kind: 'info' | 'error' = 'info'): void {
  const box = document.getElementById('toast');
  if (!box) return;
  const el = h('div', { 'data-kind': kind }, kind === 'error' ? `Error: ${message}` : message);
  box.append(el);
  setTimeout(() => el.remove(), kind === 'error' ? 10_000 : 6_000);
}
