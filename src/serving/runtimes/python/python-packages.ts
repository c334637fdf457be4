import type { PythonRequirement } from './conda-file.js';

/** A package to look for in an interpreter: its distribution name and the modules it provides. */
export interface PackageCheck {
  name: string;
  imports: string[];
}

interface KnownPackage {
  imports: string[];
  /** Debian package providing it for /usr/bin/python3. */
  debian?: string;
}

/** Distributions whose import name differs from their name (normalized names as keys). */
const KNOWN: Record<string, KnownPackage> = {
  'scikit-learn': { imports: ['sklearn'], debian: 'python3-sklearn' },
  sklearn: { imports: ['sklearn'], debian: 'python3-sklearn' },
  'scikit-image': { imports: ['skimage'], debian: 'python3-skimage' },
  pillow: { imports: ['PIL'], debian: 'python3-pil' },
  'opencv-python': { imports: ['cv2'], debian: 'python3-opencv' },
  'opencv-python-headless': { imports: ['cv2'], debian: 'python3-opencv' },
  'opencv-contrib-python': { imports: ['cv2'], debian: 'python3-opencv' },
  'opencv-contrib-python-headless': { imports: ['cv2'], debian: 'python3-opencv' },
  opencv: { imports: ['cv2'], debian: 'python3-opencv' },
  'py-opencv': { imports: ['cv2'], debian: 'python3-opencv' },
  pyyaml: { imports: ['yaml'], debian: 'python3-yaml' },
  beautifulsoup4: { imports: ['bs4'], debian: 'python3-bs4' },
  'python-dateutil': { imports: ['dateutil'], debian: 'python3-dateutil' },
  protobuf: { imports: ['google.protobuf'], debian: 'python3-protobuf' },
  'tensorflow-cpu': { imports: ['tensorflow'] },
  'tensorflow-gpu': { imports: ['tensorflow'] },
  pytorch: { imports: ['torch'], debian: 'python3-torch' },
  torch: { imports: ['torch'], debian: 'python3-torch' },
  'msgpack-python': { imports: ['msgpack'], debian: 'python3-msgpack' },
  attrs: { imports: ['attr', 'attrs'], debian: 'python3-attr' },
  'py-xgboost': { imports: ['xgboost'], debian: 'python3-xgboost' },
  'psycopg2-binary': { imports: ['psycopg2'], debian: 'python3-psycopg2' },
  'typing-extensions': { imports: ['typing_extensions'], debian: 'python3-typing-extensions' },
  'mlflow-skinny': { imports: ['mlflow'] },
  'onnxruntime-gpu': { imports: ['onnxruntime'] },
  lightgbm: { imports: ['lightgbm'], debian: 'python3-lightgbm' },
};

/** Provided by Berth's own compatibility modules (python/azureml, python/inference_schema). */
const PROVIDED_BY_BERTH = new Set([
  'azureml-defaults',
  'azureml-core',
  'azureml-inference-server-http',
  'inference-schema',
]);

/** What inference-schema's extras pull in. */
const INFERENCE_SCHEMA_EXTRAS: Record<string, string> = {
  'numpy-support': 'numpy',
  'pandas-support': 'pandas',
  'pyspark-support': 'pyspark',
};

/** Conda packages that are not Python distributions (runtimes, native libraries, tooling). */
const NOT_PYTHON_PACKAGES = new Set([
  'python',
  'pip',
  'setuptools',
  'wheel',
  'mkl',
  'mkl-service',
  'intel-openmp',
  'nomkl',
  'blas',
  'openblas',
  'libopenblas',
  'libgcc',
  'libgcc-ng',
  'libstdcxx-ng',
  'libgomp',
  'cudatoolkit',
  'cudnn',
  'nccl',
  'ca-certificates',
  'openssl',
  'python-abi',
  '-libgcc-mutex',
  '-openmp-mutex',
  'ld-impl-linux-64',
  'zlib',
  'libffi',
  'ncurses',
  'readline',
  'sqlite',
  'tk',
  'xz',
  'bzip2',
]);

/** PEP 503 normalized name: lower case, runs of `-_.` as one `-`. */
export function normalizePackageName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** The modules a distribution is expected to provide. */
export function importNamesOf(name: string): string[] {
  const normalized = normalizePackageName(name);
  return KNOWN[normalized]?.imports ?? [normalized.replace(/-/g, '_')];
}

/** The Debian package that provides a distribution for /usr/bin/python3 (a guess for unknown ones). */
export function debianPackageOf(name: string): string {
  const normalized = normalizePackageName(name);
  return KNOWN[normalized]?.debian ?? `python3-${normalized}`;
}

/**
 * The packages to look for: requirements minus what Berth provides itself (azureml-defaults,
 * inference-schema, …) and minus conda's non-Python packages; inference-schema's extras
 * (`[numpy-support]`) add the library they need. Keyed by normalized name, first wins.
 */
export function packagesToCheck(requirements: PythonRequirement[]): {
  checks: PackageCheck[];
  byName: Map<string, PythonRequirement>;
} {
  const byName = new Map<string, PythonRequirement>();
  const add = (req: PythonRequirement) => {
    const key = normalizePackageName(req.name);
    if (!byName.has(key)) byName.set(key, req);
  };
  for (const req of requirements) {
    const key = normalizePackageName(req.name);
    if (key === 'inference-schema') {
      for (const extra of req.extras) {
        const lib = INFERENCE_SCHEMA_EXTRAS[normalizePackageName(extra)];
        if (lib) add({ name: lib, extras: [], pipSpec: lib, from: req.from });
      }
    }
    if (PROVIDED_BY_BERTH.has(key)) continue;
    if (req.from === 'conda' && NOT_PYTHON_PACKAGES.has(key)) continue;
    if (req.from === 'pip' && (key === 'pip' || key === 'setuptools' || key === 'wheel')) continue;
    add(req);
  }
  const checks = [...byName.values()].map((req) => ({ name: req.name, imports: importNamesOf(req.name) }));
  return { checks, byName };
}
