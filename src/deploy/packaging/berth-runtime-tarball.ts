import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create } from 'tar';
import { BerthError } from '../../core/errors.js';

/** The folder of this Berth installation (holds package.json, bin/, dist/, python/). */
export const BERTH_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Dependencies that `berth serve` never loads, left out of a package's Berth copy: the SQLite
 * store (a native addon that would be compiled on every `npm ci`), the Kubernetes client and tar.
 * The packaged copy is a serving runtime; registry and deploy commands need a full install.
 */
export const RUNTIME_OMITTED_DEPENDENCIES: readonly string[] = [
  'better-sqlite3',
  '@kubernetes/client-node',
  'kubernetes-models',
  'tar',
];

/** Folders and files of Berth shipped in the runtime copy (python/ holds the python runtime's compat modules). */
const SHIPPED = ['bin', 'dist', 'python', 'README.md', 'LICENSE'];

/** A fixed mtime so the same tree always packs to the same bytes (and the same lockfile integrity). */
const FIXED_MTIME = new Date('2000-01-01T00:00:00Z');

export interface BerthRuntimeTarball {
  /** Absolute path of the written `.tgz`. */
  file: string;
  /** Its file name, e.g. `berth-0.1.0.tgz`. */
  fileName: string;
  version: string;
  /** The dependencies of the packed copy (name → exact version or range), as its package.json says. */
  dependencies: Record<string, string>;
}

interface BerthPackageJson {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  [key: string]: unknown;
}

/** Reads this installation's package.json. */
export function readBerthPackageJson(root = BERTH_ROOT): BerthPackageJson {
  return JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as BerthPackageJson;
}

/**
 * Packs this Berth installation's compiled runtime (bin/, dist/, python/) into an npm tarball
 * (`package/...` entries, like `npm pack`), with a package.json that keeps only what `berth serve`
 * needs and no lifecycle scripts. The bytes depend only on the files, so a lockfile that pins
 * the tarball's integrity stays valid across rebuilds of the same tree.
 * @throws PATH_NOT_FOUND when dist/ has not been built (`npm run build`).
 */
export async function packBerthRuntime(outDir: string, root = BERTH_ROOT): Promise<BerthRuntimeTarball> {
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) {
    throw new BerthError('PATH_NOT_FOUND', `Berth's compiled files are missing in "${join(root, 'dist')}".`, {
      hint: 'Run "npm run build" in the Berth folder first.',
    });
  }
  const pkg = readBerthPackageJson(root);
  const dependencies = Object.fromEntries(
    Object.entries(pkg.dependencies ?? {}).filter(([name]) => !RUNTIME_OMITTED_DEPENDENCIES.includes(name)),
  );
  const runtimePkg = {
    name: pkg.name,
    version: pkg.version,
    description: `${pkg.description ?? 'Berth'} (serving runtime copy made by "berth ... package")`,
    type: pkg.type,
    license: pkg.license,
    engines: pkg.engines,
    bin: pkg.bin,
    main: pkg.main,
    types: pkg.types,
    exports: pkg.exports,
    dependencies,
  };
  // A staging folder with the trimmed package.json and links to Berth's files; tar follows the links.
  const staging = join(outDir, `.berth-pack-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    writeFileSync(join(staging, 'package.json'), `${JSON.stringify(runtimePkg, null, 2)}\n`);
    const shipped = SHIPPED.filter((p) => existsSync(join(root, p)));
    for (const p of shipped) symlinkSync(join(root, p), join(staging, p));
    const fileName = `berth-${pkg.version}.tgz`;
    const file = join(outDir, fileName);
    await create(
      {
        gzip: true,
        file,
        cwd: staging,
        prefix: 'package',
        portable: true,
        follow: true,
        mtime: FIXED_MTIME,
        filter: (path) =>
          !/(^|\/)(node_modules|__pycache__|\.pytest_cache)(\/|$)|\.tsbuildinfo$|\.d\.ts$/.test(path),
      },
      ['package.json', ...shipped],
    );
    return { file, fileName, version: pkg.version, dependencies };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
