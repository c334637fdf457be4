import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { BerthError } from '../core/errors.js';
import type { ServeState } from './serve-spec.js';

/**
 * Writes `value` as JSON so that a reader sees either the old file or the new one, never half of
 * it: temp file in the same folder → fsync → rename.
 */
export function writeJsonAtomic(path: string, value: unknown): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(value, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Writes a server's ServeState to its state file (atomic). */
export function writeServeState(path: string, state: ServeState): void {
  writeJsonAtomic(path, state);
}

/**
 * Reads a state file written by `berth serve --state-file`.
 * @returns undefined when the file does not exist yet.
 * @throws STORE_ERROR when it exists but cannot be read or parsed.
 */
export function readServeState(path: string): ServeState | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new BerthError('STORE_ERROR', `Cannot read the serve state file "${path}".`, { cause: err });
  }
  try {
    return JSON.parse(text) as ServeState;
  } catch (err) {
    throw new BerthError('STORE_ERROR', `The serve state file "${path}" is not valid JSON.`, {
      hint: 'It is rewritten on the next change; if it stays broken, restart the service.',
      cause: err,
    });
  }
}
