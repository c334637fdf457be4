/** A JSON Schema as plain data. */
export type JsonSchema = Record<string, unknown>;

const JSON_TYPES = new Set(['object', 'array', 'number', 'integer', 'string', 'boolean', 'null']);
const SCHEMA_KEYWORDS = new Set([
  '$schema',
  '$id',
  '$ref',
  '$defs',
  'definitions',
  'type',
  'properties',
  'required',
  'items',
  'prefixItems',
  'additionalProperties',
  'patternProperties',
  'enum',
  'const',
  'format',
  'description',
  'title',
  'default',
  'examples',
  'example',
  'nullable',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minProperties',
  'maxProperties',
  'oneOf',
  'anyOf',
  'allOf',
  'not',
]);

/**
 * Tells a JSON Schema from a sample: an object with `$schema`, or whose keys are all JSON Schema
 * keywords with a `type` naming a JSON type (or `oneOf`/`anyOf`/`allOf`/`$ref`), is a schema;
 * anything else is a sample. (A sample that looks exactly like a schema is taken as one.)
 */
export function isJsonSchema(value: unknown): value is JsonSchema {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  if (keys.includes('$schema')) return true;
  if (keys.length === 0 || !keys.every((k) => SCHEMA_KEYWORDS.has(k))) return false;
  const type = (value as JsonSchema).type;
  if (typeof type === 'string') return JSON_TYPES.has(type);
  if (Array.isArray(type))
    return type.length > 0 && type.every((t) => typeof t === 'string' && JSON_TYPES.has(t));
  return keys.some((k) => k === 'oneOf' || k === 'anyOf' || k === 'allOf' || k === '$ref');
}

export interface SampleSchemaOptions {
  /**
   * For validation: whole numbers in the sample accept any number (a sample written `1.0` reads
   * back as `1`, so "integer" would reject valid requests). The documentation keeps `integer`.
   */
  lenientNumbers?: boolean;
}

/**
 * Turns a sample value into a JSON Schema: numbers (`integer` for whole numbers), strings,
 * booleans, null, arrays with their item type (merged over all items), objects with their
 * properties (all required; other keys allowed).
 */
export function schemaFromSample(sample: unknown, options: SampleSchemaOptions = {}): JsonSchema {
  if (sample === null || sample === undefined) return { nullable: true };
  switch (typeof sample) {
    case 'number':
      return { type: Number.isInteger(sample) && !options.lenientNumbers ? 'integer' : 'number' };
    case 'string':
      return { type: 'string' };
    case 'boolean':
      return { type: 'boolean' };
    case 'object':
      break;
    default:
      return {};
  }
  if (Array.isArray(sample)) {
    const items = sample.map((item) => schemaFromSample(item, options));
    return { type: 'array', items: mergeSchemas(items) };
  }
  const properties: Record<string, JsonSchema> = {};
  for (const [key, value] of Object.entries(sample as Record<string, unknown>)) {
    properties[key] = schemaFromSample(value, options);
  }
  const required = Object.keys(properties);
  return required.length > 0 ? { type: 'object', properties, required } : { type: 'object' };
}

/**
 * Returns a JSON Schema for `value`: the value itself when it is a schema, else the schema of the
 * sample. `$schema` is dropped (OpenAPI 3.0 does not take it).
 */
export function toJsonSchema(value: unknown, options: SampleSchemaOptions = {}): JsonSchema {
  if (isJsonSchema(value)) {
    const { $schema: _drop, ...rest } = value;
    return rest;
  }
  return schemaFromSample(value, options);
}

function mergeSchemas(schemas: JsonSchema[]): JsonSchema {
  const known = schemas.filter((s) => Object.keys(s).length > 0);
  if (known.length === 0) return {};
  const distinct: JsonSchema[] = [];
  for (const s of known) {
    const same = distinct.findIndex((d) => d.type === s.type);
    if (same < 0) distinct.push(s);
    else distinct[same] = mergeTwo(distinct[same], s);
  }
  const numeric = distinct.filter((d) => d.type === 'number' || d.type === 'integer');
  if (numeric.length === 2) {
    distinct.splice(distinct.indexOf(numeric[1]), 1);
    distinct[distinct.indexOf(numeric[0])] = { type: 'number' };
  }
  return distinct.length === 1 ? distinct[0] : { anyOf: distinct };
}

function mergeTwo(a: JsonSchema, b: JsonSchema): JsonSchema {
  if (a.type === 'array')
    return { type: 'array', items: mergeSchemas([a.items as JsonSchema, b.items as JsonSchema]) };
  if (a.type === 'object') {
    const pa = (a.properties ?? {}) as Record<string, JsonSchema>;
    const pb = (b.properties ?? {}) as Record<string, JsonSchema>;
    const properties: Record<string, JsonSchema> = { ...pa };
    for (const [k, v] of Object.entries(pb)) properties[k] = k in pa ? mergeSchemas([pa[k], v]) : v;
    const ra = new Set((a.required ?? []) as string[]);
    const required = ((b.required ?? []) as string[]).filter((k) => ra.has(k));
    const out: JsonSchema = { type: 'object' };
    if (Object.keys(properties).length > 0) out.properties = properties;
    if (required.length > 0) out.required = required;
    return out;
  }
  return a;
}
