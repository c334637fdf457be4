import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import type { InferenceConfig } from '../../core/config/inference-config.js';
import { BerthError } from '../../core/errors.js';
import type { SourceBundle } from '../../deploy/service-requests.js';

/** Largest source folder sent along with a remote deploy (bytes). */
export const MAX_SOURCE_BYTES = 64 * 1024 * 1024; // 64 MiB

function walk(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else if (entry.isFile() || (entry.isSymbolicLink() && statSync(full).isFile())) out.push(full);
  }
}

function commonDir(paths: string[]): string {
  let dir = dirname(paths[0]);
  while (!paths.every((p) => !relative(dir, p).startsWith('..'))) dir = dirname(dir);
  return dir;
}

/**
 * The entry script's code for a remote deploy: the whole `sourceDirectory`, or else just the entry
 * script and conda file. Undefined when the config has no code (ONNX).
 * @throws INVALID_ARGUMENT above MAX_SOURCE_BYTES; PATH_NOT_FOUND / ENTRY_SCRIPT_NOT_FOUND for missing files.
 */
export function readSourceBundle(config: InferenceConfig | undefined): SourceBundle | undefined {
  if (!config || (!config.entryScript && !config.sourceDirectory)) return undefined;
  const loose = [config.entryScript, config.condaFile].filter((p): p is string => typeof p === 'string');
  let root: string;
  const files: string[] = [];
  if (config.sourceDirectory) {
    root = config.sourceDirectory;
    try {
      walk(root, files);
    } catch (cause) {
      throw new BerthError('PATH_NOT_FOUND', `Source directory "${root}" cannot be read.`, {
        hint: 'Fix "sourceDirectory" in inferenceconfig.json.',
        cause,
      });
    }
    for (const p of loose) if (relative(root, p).startsWith('..')) files.push(p);
    if (files.some((f) => relative(root, f).startsWith('..'))) root = commonDir([root, ...files]);
  } else {
    root = commonDir(loose);
    files.push(...loose);
  }
  if (config.entryScript && !files.includes(config.entryScript)) {
    throw new BerthError('ENTRY_SCRIPT_NOT_FOUND', `Entry script "${config.entryScript}" does not exist.`, {
      hint: 'Fix "entryScript" in inferenceconfig.json; it is relative to "sourceDirectory" (or to the config file).',
    });
  }
  let total = 0;
  const bundle: SourceBundle = { root, files: [] };
  for (const file of [...new Set(files)]) {
    let data: Buffer;
    try {
      data = readFileSync(file);
    } catch (cause) {
      throw new BerthError(
        file === config.entryScript ? 'ENTRY_SCRIPT_NOT_FOUND' : 'PATH_NOT_FOUND',
        `Cannot read "${file}".`,
        {
          hint: 'Check the paths of inferenceconfig.json.',
          cause,
        },
      );
    }
    total += data.length;
    if (total > MAX_SOURCE_BYTES) {
      throw new BerthError(
        'INVALID_ARGUMENT',
        `The source directory "${root}" is larger than ${MAX_SOURCE_BYTES / 1048576} MiB.`,
        {
          hint: 'Point "sourceDirectory" at the code only (models are registered separately; dependencies are installed from "dependencies").',
        },
      );
    }
    bundle.files.push({ path: relative(root, file).split(sep).join('/'), data: data.toString('base64') });
  }
  return bundle;
}
