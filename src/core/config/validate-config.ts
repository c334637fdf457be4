import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Ajv as AjvInstance, ErrorObject, ValidateFunction } from 'ajv';
import { BerthError } from '../errors.js';

// ajv costs ~80 ms to load: load it on the first validation, not when the SDK or CLI is imported.
let ajv: AjvInstance | undefined;
function getAjv(): AjvInstance {
  if (!ajv) {
    const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
    ajv = new Ajv({ allErrors: true, strict: false, useDefaults: false });
  }
  return ajv;
}
const compiled = new WeakMap<object, ValidateFunction>();

function describe(err: ErrorObject): string {
  const where = err.instancePath === '' ? '(root)' : err.instancePath.replace(/\//g, '.').replace(/^\./, '');
  if (err.keyword === 'additionalProperties') {
    const key = (err.params as { additionalProperty: string }).additionalProperty;
    const at = err.instancePath === '' ? key : `${where}.${key}`;
    return `unknown key "${at}"`;
  }
  if (err.keyword === 'enum') {
    return `"${where}" must be one of ${JSON.stringify((err.params as { allowedValues: unknown[] }).allowedValues)}`;
  }
  return `"${where}" ${err.message ?? 'is invalid'}`;
}

/**
 * Validates `value` against `schema`; throws INVALID_CONFIG naming every failing JSON path.
 * @param what names the file or object for the message ("inferenceconfig.json").
 */
export function validateConfig<T>(schema: object, value: unknown, what: string): T {
  const validate = compiled.get(schema) ?? getAjv().compile(schema);
  compiled.set(schema, validate);
  if (!validate(value)) {
    const problems = (validate.errors ?? []).map(describe);
    throw new BerthError('INVALID_CONFIG', `${what} is invalid: ${problems.join('; ')}.`, {
      hint: `Fix ${what}; see the README's config reference for the accepted keys.`,
      details: { errors: validate.errors?.map((e) => ({ path: e.instancePath, message: describe(e) })) },
    });
  }
  return value as T;
}

/** Reads and parses a JSON config file, turning a missing file or bad JSON into a precise error. */
export function readJsonConfigFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new BerthError('PATH_NOT_FOUND', `Cannot read ${what} at "${path}".`, {
      hint: 'Check the path; it is resolved from the current directory.',
      cause,
    });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new BerthError(
      'INVALID_CONFIG',
      `${what} at "${path}" is not valid JSON: ${(cause as Error).message}.`,
      {
        hint: 'Fix the JSON syntax (a trailing comma or a missing quote is the usual cause).',
        cause,
      },
    );
  }
}
