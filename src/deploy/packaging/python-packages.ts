import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { BerthError } from '../../core/errors.js';

/** Debian packages that provide common pip/conda packages (the image installs these with apt-get). */
const DEBIAN_PACKAGES: Record<string, string> = {
  numpy: 'python3-numpy',
  scipy: 'python3-scipy',
  pandas: 'python3-pandas',
  'scikit-learn': 'python3-sklearn',
  sklearn: 'python3-sklearn',
  joblib: 'python3-joblib',
  pyyaml: 'python3-yaml',
  requests: 'python3-requests',
  pillow: 'python3-pil',
  matplotlib: 'python3-matplotlib',
  onnx: 'python3-onnx',
};

/** Packages Berth replaces by its own compat modules or that the image already has. */
const PROVIDED = new Set([
  'python',
  'pip',
  'setuptools',
  'wheel',
  'azureml-defaults',
  'azureml-core',
  'azureml-model-management-sdk',
  'inference-schema',
]);

export interface PythonPackages {
  /** Debian packages, always including python3. */
  apt: string[];
  /** Requirements with no Debian equivalent, for `pip install` (as written in the conda file). */
  pip: string[];
}

function bareName(spec: string): string {
  return spec
    .trim()
    .split(/[=<>!~\s[;]/)[0]
    .toLowerCase()
    .replace(/_/g, '-');
}

/**
 * Reads a conda environment file and splits its dependencies into Debian packages (installed
 * with apt-get in the image) and the rest (pip). Without a conda file: python3 and numpy.
 * @throws INVALID_CONFIG when the file is not YAML of the conda shape.
 */
export function pythonPackagesFromCondaFile(path: string | undefined): PythonPackages {
  const apt = new Set(['python3', 'python3-numpy']);
  const pip: string[] = [];
  if (!path) return { apt: [...apt], pip };
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new BerthError('INVALID_CONFIG', `The conda file "${path}" cannot be read as YAML.`, {
      hint: 'Fix the file or remove "condaFile" from the inference config.',
      cause,
    });
  }
  const deps = (doc as { dependencies?: unknown } | null)?.dependencies;
  const entries: string[] = [];
  for (const d of Array.isArray(deps) ? deps : []) {
    if (typeof d === 'string') entries.push(d.replace(/^([^=<>!~]+)=(?!=)/, '$1=='));
    else if (d && typeof d === 'object' && Array.isArray((d as { pip?: unknown }).pip)) {
      for (const p of (d as { pip: unknown[] }).pip) if (typeof p === 'string') entries.push(p);
    }
  }
  for (const spec of entries) {
    const name = bareName(spec);
    if (!name || PROVIDED.has(name)) continue;
    const debian = DEBIAN_PACKAGES[name];
    if (debian) apt.add(debian);
    else pip.push(spec.trim());
  }
  return { apt: [...apt], pip };
}
