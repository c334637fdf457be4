import type { JsonSchema } from './api-types.js';
import { h } from './create-element.js';

/** A form control bound to one JSON value. */
export interface FormControl {
  element: HTMLElement;
  /** The value the inputs describe; throws FormInputError naming the field when one is invalid. */
  read(): unknown;
  write(value: unknown): void;
}

export class FormInputError extends Error {}

let nextId = 0;

/** Follows a local `$ref` (`#/components/schemas/X`, `#/definitions/X`) inside `root`. */
function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema {
  let current = schema;
  for (let depth = 0; depth < 20 && typeof current.$ref === 'string'; depth++) {
    const path = current.$ref.replace(/^#\//, '').split('/');
    let target: unknown = root;
    for (const p of path)
      target = (target as Record<string, unknown> | undefined)?.[p.replace(/~1/g, '/').replace(/~0/g, '~')];
    if (!target || typeof target !== 'object') return {};
    current = target as JsonSchema;
  }
  return current;
}

/** The schema's JSON type (the first non-null one of a type list). */
function typeOf(schema: JsonSchema): string | undefined {
  const t = schema.type;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) return t.find((x) => x !== 'null') as string | undefined;
  if (schema.properties) return 'object';
  return undefined;
}

const isNumeric = (t: string | undefined) => t === 'number' || t === 'integer';

/** A value of the schema's shape to start from: examples and defaults, else zeros and empties. */
export function defaultFor(schema: JsonSchema, root: JsonSchema = schema): unknown {
  const s = resolve(schema, root);
  if (s.default !== undefined) return s.default;
  if (s.example !== undefined) return s.example;
  if (Array.isArray(s.examples) && s.examples.length > 0) return s.examples[0];
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  switch (typeOf(s)) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const props = (s.properties ?? {}) as Record<string, JsonSchema>;
      for (const [k, v] of Object.entries(props)) out[k] = defaultFor(v, root);
      return out;
    }
    case 'array':
      return s.items ? [defaultFor(s.items as JsonSchema, root)] : [];
    case 'number':
    case 'integer':
      return 0;
    case 'string':
      return '';
    case 'boolean':
      return false;
    default:
      return null;
  }
}

function parseNumber(text: string, integer: boolean, field: string): number {
  const n = Number(text);
  if (text.trim() === '' || Number.isNaN(n))
    throw new FormInputError(`"${field}": "${text}" is not a number.`);
  if (integer && !Number.isInteger(n)) throw new FormInputError(`"${field}": ${text} is not a whole number.`);
  return n;
}

function field(id: string, label: string, hint: string, input: HTMLElement): HTMLElement {
  return h(
    'div',
    { class: 'form-field' },
    h('label', { for: id }, label, hint ? h('span', { class: 'hint' }, ` — ${hint}`) : ''),
    input,
  );
}

function jsonControl(label: string, path: string, hint: string, value: unknown): FormControl {
  const id = `field-${nextId++}`;
  const area = h('textarea', { id, name: path, rows: 4, spellcheck: 'false' });
  const write = (v: unknown) => {
    area.value = JSON.stringify(v ?? null, null, 1);
  };
  write(value);
  return {
    element: field(id, label, hint || 'JSON', area),
    read: () => {
      try {
        return JSON.parse(area.value);
      } catch {
        throw new FormInputError(`"${label}" is not valid JSON.`);
      }
    },
    write,
  };
}

function control(
  schema: JsonSchema,
  root: JsonSchema,
  label: string,
  path: string,
  required: boolean,
  value: unknown,
): FormControl {
  const s = resolve(schema, root);
  const type = typeOf(s);
  const description = typeof s.description === 'string' ? s.description : '';
  const id = `field-${nextId++}`;

  if (type === 'object' && s.properties && typeof s.properties === 'object') {
    const props = Object.entries(s.properties as Record<string, JsonSchema>);
    const requiredKeys = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
    const current =
      value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
    const children = props.map(([key, sub]) => ({
      key,
      control: control(sub, root, key, path ? `${path}.${key}` : key, requiredKeys.has(key), current[key]),
    }));
    const inner = children.map((c) => c.control.element);
    const element = path
      ? h('fieldset', { 'data-path': path }, h('legend', null, label), inner)
      : h('div', { 'data-path': '' }, inner);
    return {
      element,
      read: () => {
        const out: Record<string, unknown> = {};
        for (const c of children) {
          const v = c.control.read();
          if (v !== undefined) out[c.key] = v;
        }
        return out;
      },
      write: (v) => {
        const obj = v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
        for (const c of children) c.control.write(obj[c.key]);
      },
    };
  }

  if (Array.isArray(s.enum) && s.enum.length > 0) {
    const options = s.enum as unknown[];
    const select = h(
      'select',
      { id, name: path },
      options.map((o, i) => h('option', { value: String(i) }, JSON.stringify(o))),
    );
    const write = (v: unknown) => {
      const i = options.findIndex((o) => JSON.stringify(o) === JSON.stringify(v));
      select.value = String(Math.max(0, i));
    };
    write(value);
    return {
      element: field(id, label, description, select),
      read: () => options[Number(select.value)],
      write,
    };
  }

  if (type === 'string' || isNumeric(type)) {
    const numeric = isNumeric(type);
    const input = h('input', {
      id,
      name: path,
      type: numeric ? 'number' : 'text',
      step: numeric ? (type === 'integer' ? '1' : 'any') : null,
      required,
    });
    const write = (v: unknown) => {
      input.value = v === undefined || v === null ? '' : String(v);
    };
    write(value);
    return {
      element: field(id, label, description || (numeric ? type : ''), input),
      read: () => {
        if (!numeric) return input.value;
        if (input.value === '' && !required) return undefined;
        return parseNumber(input.value, type === 'integer', label);
      },
      write,
    };
  }

  if (type === 'boolean') {
    const box = h('input', { id, name: path, type: 'checkbox' });
    const write = (v: unknown) => {
      box.checked = v === true;
    };
    write(value);
    return { element: field(id, label, description, box), read: () => box.checked, write };
  }

  if (type === 'array') {
    const items = resolve((s.items ?? {}) as JsonSchema, root);
    const itemType = typeOf(items);
    const innerType =
      itemType === 'array' ? typeOf(resolve((items.items ?? {}) as JsonSchema, root)) : undefined;
    if (isNumeric(itemType) || itemType === 'string') {
      const numbers = isNumeric(itemType);
      const input = numbers
        ? h('input', { id, name: path, type: 'text', inputmode: 'decimal' })
        : h('textarea', { id, name: path, rows: 3 });
      const write = (v: unknown) => {
        const list = Array.isArray(v) ? v : [];
        input.value = list.map(String).join(numbers ? ', ' : '\n');
      };
      write(value);
      return {
        element: field(
          id,
          label,
          description || (numbers ? 'numbers separated by commas' : 'one value per line'),
          input,
        ),
        read: () => {
          if (!numbers) return input.value.split('\n').filter((l) => l !== '');
          return input.value
            .split(/[\s,]+/)
            .filter(Boolean)
            .map((t) => parseNumber(t, itemType === 'integer', label));
        },
        write,
      };
    }
    if (itemType === 'array' && isNumeric(innerType)) {
      const area = h('textarea', { id, name: path, rows: 4, spellcheck: 'false' });
      const write = (v: unknown) => {
        const rows = Array.isArray(v) ? v : [];
        area.value = rows.map((r) => (Array.isArray(r) ? r.map(String).join(', ') : String(r))).join('\n');
      };
      write(value);
      return {
        element: field(id, label, description || 'one row per line, numbers separated by commas', area),
        read: () =>
          area.value
            .split('\n')
            .filter((line) => line.trim() !== '')
            .map((line) =>
              line
                .split(/[\s,]+/)
                .filter(Boolean)
                .map((t) => parseNumber(t, innerType === 'integer', label)),
            ),
        write,
      };
    }
  }

  return jsonControl(label, path, description, value);
}

/**
 * A form generated from a JSON Schema (an OpenAPI request body schema): inputs for numbers,
 * strings, booleans and enums, comma-separated lists for number arrays, one row per line for
 * matrices, and a JSON box for anything else. `root` resolves `$ref`s.
 */
export function buildSchemaForm(schema: JsonSchema, root: JsonSchema, value: unknown): FormControl {
  return control(schema, root, 'Request body', '', true, value);
}

/** True when the schema describes nothing a form could ask for (any JSON). */
export function isOpenSchema(schema: JsonSchema, root: JsonSchema): boolean {
  const s = resolve(schema, root);
  return typeOf(s) === undefined && !Array.isArray(s.enum);
}
