import { basename, isAbsolute, relative, sep } from 'node:path';
import type { InferenceConfig } from '../../core/config/inference-config.js';

/** Folder, inside a package or an image, that holds the entry script's source directory. */
export const CODE_DIR = 'code';

/** What of the entry script's code goes into a package, and how its paths read there. */
export interface CodeLayout {
  /** Absolute folder copied whole to `code/` (the source directory), or absent. */
  sourceDirectory?: string;
  /** Single files copied to `code/` when there is no source directory (entry script, conda file). */
  files: { from: string; to: string }[];
  /**
   * The inference config for serve.json: `sourceDirectory` = `root`, `entryScript` and `condaFile`
   * relative to it (how `parseInferenceConfig` reads them back).
   */
  config: InferenceConfig;
}

function inside(dir: string, file: string): string | undefined {
  const rel = relative(dir, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : undefined;
}

/**
 * Maps a loaded inference config (absolute paths) onto the package layout: the source directory
 * becomes `root`, the entry script and conda file keep their place inside it. Without a
 * source directory only the entry script (and conda file) are copied. Machine-specific keys
 * (`pythonInterpreter`) are dropped: the package's environment decides (BERTH_PYTHON in the image).
 * @param root the code folder: `code` (relative to serve.json) in a package, `/app/code` in a pod.
 */
export function planCodeLayout(config: InferenceConfig, root = CODE_DIR): CodeLayout {
  const { pythonInterpreter: _dropped, ...rest } = config;
  const out: InferenceConfig = { ...rest };
  const files: { from: string; to: string }[] = [];
  if (config.sourceDirectory) {
    out.sourceDirectory = root;
    for (const key of ['entryScript', 'condaFile'] as const) {
      const abs = config[key];
      if (!abs) continue;
      const rel = inside(config.sourceDirectory, abs);
      if (rel) out[key] = rel;
      else {
        files.push({ from: abs, to: basename(abs) });
        out[key] = basename(abs);
      }
    }
    return { sourceDirectory: config.sourceDirectory, files, config: out };
  }
  for (const key of ['entryScript', 'condaFile'] as const) {
    const abs = config[key];
    if (!abs) continue;
    files.push({ from: abs, to: basename(abs) });
    out[key] = basename(abs);
  }
  if (files.length > 0) out.sourceDirectory = root;
  return { files, config: out };
}
