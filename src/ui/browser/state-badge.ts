import { h } from './create-element.js';

/** A symbol per state, so the state reads without colour too (the word is always there). */
const SYMBOLS: Record<string, string> = {
  Healthy: '✓',
  Transitioning: '↻',
  Unhealthy: '!',
  Failed: '✕',
  Deleting: '–',
};

/** The service state as a coloured badge with a symbol and the state's name. */
export function stateBadge(state: string): HTMLSpanElement {
  const known = state in SYMBOLS ? state : 'Unknown';
  return h(
    'span',
    { class: 'badge', 'data-state': known },
    h('span', { 'aria-hidden': 'true' }, SYMBOLS[known] ?? '?'),
    state,
  );
}
