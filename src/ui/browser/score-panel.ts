import type { JsonSchema, ServiceView } from './api-types.js';
import { h } from './create-element.js';
import { formatMs } from './display-format.js';
import { describeError } from './error-notice.js';
import type { PageContext } from './page.js';
import {
  buildSchemaForm,
  defaultFor,
  type FormControl,
  FormInputError,
  isOpenSchema,
} from './schema-form.js';

const SCHEMA_KEYWORDS = new Set([
  '$schema',
  'type',
  'properties',
  'required',
  'items',
  'additionalProperties',
  'enum',
  'description',
  'title',
  'default',
  'examples',
  'example',
  'minimum',
  'maximum',
  'format',
  'nullable',
  '$ref',
  'anyOf',
  'oneOf',
  'allOf',
  'minItems',
  'maxItems',
  'minLength',
  'maxLength',
  'pattern',
]);
const JSON_TYPES = new Set(['object', 'array', 'number', 'integer', 'string', 'boolean', 'null']);

/** An inference config's `schema.input` is a JSON Schema or a sample; only a sample prefills the form. */
function isSchemaLike(value: unknown): boolean {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  if (keys.includes('$schema')) return true;
  const type = (value as JsonSchema).type;
  return typeof type === 'string' && JSON_TYPES.has(type) && keys.every((k) => SCHEMA_KEYWORDS.has(k));
}

/** The request body schema of `POST /score` in a service's OpenAPI document ({} = any JSON). */
export function inputSchemaOf(doc: JsonSchema): JsonSchema {
  const paths = doc.paths as Record<string, Record<string, unknown>> | undefined;
  const post = paths?.['/score']?.post as
    | { requestBody?: { content?: Record<string, { schema?: JsonSchema }> } }
    | undefined;
  return post?.requestBody?.content?.['application/json']?.schema ?? {};
}

function pretty(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/**
 * "Try it": a form generated from the service's input schema and a raw JSON editor; Score sends
 * the body through the control plane with the chosen key and shows the answer and its latency
 * (the browser's round trip, and the service's time measured next to it).
 */
export function scorePanel(
  ctx: PageContext,
  name: string,
): {
  element: HTMLElement;
  setService(service: ServiceView): void;
  setDocument(doc: JsonSchema | null): void;
} {
  let service: ServiceView | undefined;
  let form: FormControl | undefined;
  let mode: 'form' | 'raw' = 'form';
  let built = false;
  const formTab = h('button', { type: 'button', 'aria-pressed': 'true', id: 'tab-form' }, 'Form');
  const rawTab = h('button', { type: 'button', 'aria-pressed': 'false', id: 'tab-raw' }, 'Raw JSON');
  const formHost = h(
    'div',
    { id: 'score-form' },
    h('p', { class: 'muted' }, 'Waiting for the service’s OpenAPI document…'),
  );
  const raw = h('textarea', { id: 'score-raw', rows: 10, spellcheck: 'false' });
  const rawHost = h(
    'div',
    { class: 'form-field', hidden: true },
    h('label', { for: 'score-raw' }, 'Request body (JSON)'),
    raw,
  );
  const keySelect = h(
    'select',
    { id: 'score-key' },
    h('option', { value: 'primary' }, 'primary key'),
    h('option', { value: 'secondary' }, 'secondary key'),
    h('option', { value: 'none' }, 'no key (expect 401)'),
  );
  const keyField = h('label', { for: 'score-key', hidden: true }, 'Send with ', keySelect);
  const button = h('button', { type: 'submit', class: 'primary', id: 'score-button' }, 'Score');
  const problem = h('div', { id: 'score-problem' });
  const status = h('div', { class: 'result-status', id: 'score-status' }, 'No request sent yet.');
  const output = h('pre', { class: 'code', id: 'score-output', 'aria-label': 'Response body' });
  output.hidden = true;

  const show = (next: 'form' | 'raw') => {
    problem.replaceChildren();
    if (next === mode) return;
    try {
      if (next === 'raw' && form) raw.value = JSON.stringify(form.read(), null, 2);
      if (next === 'form' && form) form.write(JSON.parse(raw.value));
    } catch (err) {
      problem.replaceChildren(
        h(
          'div',
          { class: 'notice', role: 'alert' },
          err instanceof SyntaxError ? 'The raw JSON does not parse.' : describeError(err),
        ),
      );
      return;
    }
    mode = next;
    formTab.setAttribute('aria-pressed', String(mode === 'form'));
    rawTab.setAttribute('aria-pressed', String(mode === 'raw'));
    formHost.hidden = mode !== 'form';
    rawHost.hidden = mode !== 'raw';
  };
  formTab.addEventListener('click', () => show('form'));
  rawTab.addEventListener('click', () => show('raw'));

  const body = (): string => {
    if (mode === 'form' && form) return JSON.stringify(form.read());
    const text = raw.value.trim();
    try {
      JSON.parse(text);
    } catch {
      throw new FormInputError('The request body is not valid JSON.');
    }
    return text;
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    problem.replaceChildren();
    let payload: string;
    try {
      payload = body();
    } catch (err) {
      problem.replaceChildren(h('div', { class: 'notice', role: 'alert' }, describeError(err)));
      return;
    }
    button.disabled = true;
    button.textContent = 'Scoring…';
    try {
      const r = await ctx.api.score(
        name,
        payload,
        'application/json',
        keySelect.value as 'primary' | 'secondary' | 'none',
      );
      const ok = r.status >= 200 && r.status < 300;
      const parts = [
        `HTTP ${r.status}${ok ? ' OK' : ''}`,
        `${formatMs(r.roundTripMs)} round trip from this browser`,
      ];
      if (r.serviceMs !== null) parts.push(`${formatMs(r.serviceMs)} at the service`);
      if (!r.fromService) parts.push('the control plane could not reach the service');
      status.textContent = parts.join(' · ');
      status.dataset.ok = String(ok);
      output.textContent = pretty(r.text);
      output.hidden = false;
    } catch (err) {
      status.textContent = `Not sent: ${describeError(err)}`;
      status.dataset.ok = 'false';
    } finally {
      button.disabled = false;
      button.textContent = 'Score';
    }
  };

  const element = h(
    'section',
    { class: 'card', 'aria-labelledby': 'try-title' },
    h('h2', { id: 'try-title' }, 'Try it'),
    h(
      'p',
      { class: 'muted' },
      'Sends POST /score to the service through the control plane, with the service’s key.',
    ),
    h(
      'div',
      { class: 'grid2' },
      h(
        'form',
        { onsubmit: (e: Event) => void submit(e), 'aria-label': 'Scoring request' },
        h('div', { class: 'tabs', role: 'group', 'aria-label': 'Edit the request as' }, formTab, rawTab),
        formHost,
        rawHost,
        problem,
        h('div', { class: 'score-bar' }, keyField, button),
      ),
      h('div', { 'aria-live': 'polite' }, h('h3', null, 'Response'), status, output),
    ),
  );

  return {
    element,
    setService: (s) => {
      service = s;
      keyField.hidden = !s.authEnabled;
      if (built) return;
      button.disabled = true;
      const waiting =
        s.state === 'Healthy' || s.state === 'Unhealthy'
          ? 'Loading the service’s OpenAPI document…'
          : s.state === 'Transitioning'
            ? 'Waiting for the service to start…'
            : `Scoring needs a running service; this one is ${s.state}.`;
      formHost.replaceChildren(h('p', { class: 'muted' }, waiting));
    },
    setDocument: (doc) => {
      if (built) return;
      built = true;
      button.disabled = false;
      const schema = doc ? inputSchemaOf(doc) : {};
      const sample = service?.inferenceConfig.schema?.input;
      const start = sample !== undefined && !isSchemaLike(sample) ? sample : defaultFor(schema, doc ?? {});
      raw.value = JSON.stringify(start ?? {}, null, 2);
      if (!doc || isOpenSchema(schema, doc)) {
        formHost.replaceChildren(
          h(
            'p',
            { class: 'muted' },
            doc
              ? 'The service declares no input schema: write the JSON body.'
              : 'The OpenAPI document is not available: write the JSON body.',
          ),
        );
        form = undefined;
        show('raw');
        formTab.disabled = true;
        return;
      }
      form = buildSchemaForm(schema, doc, start);
      formHost.replaceChildren(form.element);
    },
  };
}
