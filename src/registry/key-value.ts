import { BerthError } from '../core/errors.js';

/** What a key=value pair labels: tags are mutable labels, properties are fixed at registration. */
export type KeyValueKind = 'tag' | 'property';

const MAX_KEY_LENGTH = 255;
const MAX_VALUE_LENGTH = 65_536;

/**
 * Parses `key=value` (split at the first `=`; the value may be empty or contain `=`).
 * @throws INVALID_TAG when there is no `=` or the key is not valid.
 */
export function parseKeyValue(text: string, kind: KeyValueKind): { key: string; value: string } {
  const at = text.indexOf('=');
  if (at < 0) {
    throw new BerthError('INVALID_TAG', `Malformed ${kind} "${text}": expected key=value.`, {
      hint: `Write it as --${kind} key=value, e.g. --${kind} framework=onnx.`,
    });
  }
  const key = text.slice(0, at);
  const value = text.slice(at + 1);
  assertValidKey(key, kind, text);
  assertValidValue(key, value, kind);
  return { key, value };
}

/** Parses repeated `key=value` flags into a record (a later key wins). @throws INVALID_TAG */
export function parseKeyValues(texts: readonly string[], kind: KeyValueKind): Record<string, string> {
  return Object.fromEntries(
    texts.map((t) => {
      const { key, value } = parseKeyValue(t, kind);
      return [key, value];
    }),
  );
}

/**
 * Parses tag filters: `key=value` (that value) or `key` (any value).
 * @throws INVALID_TAG
 */
export function parseTagFilter(texts: readonly string[]): Record<string, string | true> {
  return Object.fromEntries(
    texts.map((t): [string, string | true] => {
      if (!t.includes('=')) {
        assertValidKey(t, 'tag', t);
        return [t, true];
      }
      const { key, value } = parseKeyValue(t, 'tag');
      return [key, value];
    }),
  );
}

/** Checks a record given through the SDK or API. @throws INVALID_TAG */
export function assertValidKeyValues(record: unknown, kind: KeyValueKind): Record<string, string> {
  if (record === undefined || record === null) return {};
  if (typeof record !== 'object' || Array.isArray(record)) {
    throw new BerthError(
      'INVALID_TAG',
      `The ${kind === 'tag' ? 'tags' : 'properties'} must be an object of strings.`,
      {
        hint: `Pass e.g. { framework: 'onnx' }.`,
      },
    );
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(record)) {
    assertValidKey(key, kind, key);
    if (typeof value !== 'string') {
      throw new BerthError(
        'INVALID_TAG',
        `The ${kind} "${key}" has a ${typeof value} value; values are strings.`,
        {
          hint: `Pass it as a string, e.g. "${key}": "${String(value)}".`,
        },
      );
    }
    assertValidValue(key, value, kind);
    Object.defineProperty(out, key, { value, enumerable: true, writable: true });
  }
  return out;
}

/** @throws INVALID_TAG when `key` is empty, too long, or has `=`, control characters or surrounding spaces. */
export function assertValidKey(key: string, kind: KeyValueKind, shown: string = key): void {
  let problem: string | undefined;
  if (key.length === 0) problem = 'the key is empty';
  else if (key.length > MAX_KEY_LENGTH) problem = `the key is longer than ${MAX_KEY_LENGTH} characters`;
  else if (key.includes('=')) problem = 'the key contains "="';
  else if (/\p{Cc}/u.test(key)) problem = 'the key contains control characters';
  else if (key.trim() !== key) problem = 'the key starts or ends with spaces';
  if (problem) {
    throw new BerthError('INVALID_TAG', `Malformed ${kind} "${shown}": ${problem}.`, {
      hint: `Write it as key=value with a non-empty key, e.g. framework=onnx.`,
    });
  }
}

function assertValidValue(key: string, value: string, kind: KeyValueKind): void {
  if (value.length > MAX_VALUE_LENGTH || value.includes('\u0000')) {
    throw new BerthError(
      'INVALID_TAG',
      `The value of ${kind} "${key}" is longer than 64 KiB or contains NUL.`,
      {
        hint: 'Shorten it; keep large documents as files of the model.',
      },
    );
  }
}
