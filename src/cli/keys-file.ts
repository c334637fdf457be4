import { readFileSync } from 'node:fs';
import { BerthError } from '../core/errors.js';

/**
 * The Bearer keys in a keys file (`berth serve --keys-file`): either the JSON that
 * `berth service keys NAME --json` prints (`{"primaryKey": "...", "secondaryKey": "..."}`), or text
 * with one key per line (blank lines and `#` comments skipped). The file is read again on SIGHUP
 * (the spec is rebuilt), so rotating a key is: edit the file, reload.
 * @throws PATH_NOT_FOUND when the file is missing; INVALID_ARGUMENT when it holds no key.
 */
export function readKeysFile(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    throw new BerthError(
      missing ? 'PATH_NOT_FOUND' : 'INVALID_ARGUMENT',
      missing
        ? `The keys file ${file} does not exist.`
        : `Cannot read the keys file ${file}: ${(cause as Error).message}.`,
      { hint: 'Give a file with one key per line, or the JSON of `berth service keys NAME --json`.', cause },
    );
  }
  const keys = text.trimStart().startsWith('{') ? keysFromJson(file, text) : keysFromLines(text);
  if (keys.length === 0) {
    throw new BerthError('INVALID_ARGUMENT', `The keys file ${file} holds no key.`, {
      hint: 'Put one key per line, or {"primaryKey": "...", "secondaryKey": "..."}.',
    });
  }
  return keys;
}

function keysFromLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith('#'));
}

function keysFromJson(file: string, text: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new BerthError(
      'INVALID_ARGUMENT',
      `The keys file ${file} is not valid JSON: ${(cause as Error).message}.`,
      { hint: 'Write {"primaryKey": "...", "secondaryKey": "..."}, or one key per line.', cause },
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BerthError('INVALID_ARGUMENT', `The keys file ${file} must hold a JSON object.`, {
      hint: 'Write {"primaryKey": "...", "secondaryKey": "..."}, or one key per line.',
    });
  }
  const keys: string[] = [];
  for (const field of ['primaryKey', 'secondaryKey'] as const) {
    const key = (value as Record<string, unknown>)[field];
    if (key === undefined) continue;
    if (typeof key !== 'string' || key.trim() === '') {
      throw new BerthError(
        'INVALID_ARGUMENT',
        `The keys file ${file}: "${field}" must be a non-empty string.`,
        {
          hint: 'Write {"primaryKey": "...", "secondaryKey": "..."}.',
        },
      );
    }
    keys.push(key.trim());
  }
  return keys;
}
