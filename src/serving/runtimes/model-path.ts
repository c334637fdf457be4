import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../../core/errors.js';
import type { ServedModel } from '../serve-spec.js';

/**
 * The seed's `Model.get_model_path(name, version?)` over the served models: the single file when
 * the model's folder holds exactly one file, else the folder; the latest served version when no
 * version is given. A name that is no served model but a file inside one (`"model.pkl"`) resolves
 * to that file. Throws MODEL_NOT_FOUND naming what is served.
 */
export function resolveModelPath(models: readonly ServedModel[], name: string, version?: number): string {
  const candidates = models.filter(
    (m) => m.name === name && (version === undefined || m.version === version),
  );
  if (candidates.length > 0) {
    const model = candidates.reduce((a, b) => (b.version > a.version ? b : a));
    return singleFileOrFolder(model.path);
  }
  if (version === undefined) {
    for (const m of models) {
      const inside = join(m.path, name);
      if (!name.includes('..') && existsSync(inside)) return inside;
    }
  }
  const served = models.map((m) => `${m.name}:${m.version}`).join(', ') || 'none';
  const wanted = version === undefined ? name : `${name}:${version}`;
  throw new BerthError(
    'MODEL_NOT_FOUND',
    `Model "${wanted}" is not served by this replica (served: ${served}).`,
    {
      hint: 'Deploy the service with that model (-m NAME:VERSION), or fix the name the entry script asks for.',
    },
  );
}

function singleFileOrFolder(path: string): string {
  if (!statSync(path, { throwIfNoEntry: false })?.isDirectory()) return path;
  const files = listFiles(path, 2);
  return files.length === 1 ? files[0] : path;
}

/** Files under `dir`, stopping once more than `limit` are found. */
export function listFiles(dir: string, limit = Number.POSITIVE_INFINITY): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (out.length >= limit) return;
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(dir);
  return out;
}
