import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { BerthError } from '../core/errors.js';
import type { SourceBundle } from './service-requests.js';

const PATH_KEYS = ['sourceDirectory', 'entryScript', 'condaFile'] as const;

function safeRelative(path: string): string {
  const parts = path.split('/');
  if (path === '' || isAbsolute(path) || parts.some((p) => p === '..' || p === '')) {
    throw new BerthError(
      'INVALID_ARGUMENT',
      `Uploaded source file path "${path}" is not a plain relative path.`,
      {
        hint: 'Send paths relative to the source folder, with "/" separators and no "..".',
      },
    );
  }
  return parts.join(sep);
}

/**
 * Stores uploaded entry-script code under `<workspace>/sources/<sha256>/` (content-addressed, reused,
 * renamed into place complete) and returns the inference config with its paths moved there.
 * @throws INVALID_ARGUMENT for a path escaping the folder or data that is not base64.
 */
export function storeSourceBundle(
  workspaceDir: string,
  bundle: SourceBundle,
  inferenceConfig: unknown,
): unknown {
  const files = [...bundle.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const hash = createHash('sha256');
  for (const f of files) hash.update(`${f.path}\0${f.data}\n`);
  const dir = join(workspaceDir, 'sources', hash.digest('hex').slice(0, 32));
  if (!existsSync(dir)) {
    const tmp = `${dir}.${process.pid}.${Date.now().toString(36)}.tmp`;
    try {
      for (const f of files) {
        const dest = join(tmp, safeRelative(f.path));
        mkdirSync(dirname(dest), { recursive: true });
        writeFileSync(dest, Buffer.from(f.data, 'base64'));
      }
      mkdirSync(tmp, { recursive: true });
      try {
        renameSync(tmp, dir);
      } catch (err) {
        if (!existsSync(dir)) throw err;
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  const config = { ...(inferenceConfig as Record<string, unknown>) };
  for (const key of PATH_KEYS) {
    const value = config[key];
    if (typeof value !== 'string') continue;
    const rel = relative(bundle.root, value);
    if (!isAbsolute(value) || rel.startsWith('..')) continue;
    config[key] = join(dir, rel);
  }
  return config;
}
