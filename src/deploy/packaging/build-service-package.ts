import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { create } from 'tar';
import type { DeploymentConfig } from '../../core/config/deployment-config.js';
import { DEPLOYMENT_DEFAULTS } from '../../core/config/deployment-config.js';
import type { InferenceConfig } from '../../core/config/inference-config.js';
import { BerthError } from '../../core/errors.js';
import { assertValidName } from '../../core/model-ref.js';
import type { ServeSpec } from '../../serving/serve-spec.js';
import { packBerthRuntime } from './berth-runtime-tarball.js';
import { type CopiedFile, copyTree, folderSha256 } from './copy-tree.js';
import {
  DEFAULT_BASE_IMAGE,
  DEFAULT_PYTHON_BASE_IMAGE,
  PACKAGE_PORT,
  renderDockerfile,
  renderDockerignore,
} from './dockerfile.js';
import { renderPackageReadme } from './package-readme.js';
import { CODE_DIR, planCodeLayout } from './portable-inference-config.js';
import { type PythonPackages, pythonPackagesFromCondaFile } from './python-packages.js';

/** A model to put into a package: a folder (or file) holding exactly one registered version's files. */
export interface PackageModel {
  name: string;
  version: number;
  /** Absolute folder (e.g. from `ModelRegistry.materialize`) or single file. */
  path: string;
  /** The registry's sha256 of the version, recorded in berth-package.json when given. */
  sha256?: string;
}

export interface BuildServicePackageOptions {
  /** Names the package (README title, npm package name, serve.json `name`). Default: the first model's name. */
  name?: string;
  models: PackageModel[];
  /** A loaded inference config (absolute paths, as `loadInferenceConfig` returns). */
  inferenceConfig: InferenceConfig;
  /** The service's deployment config: limits and auth go into serve.json. */
  deploymentConfig?: DeploymentConfig;
  /** Output folder, or (with `tar`) archive path; `.tar.gz` is appended when missing. Must not exist. */
  outDir: string;
  tar?: boolean;
  /** npm executable (default `npm` on PATH). */
  npm?: string;
}

/** Per-model facts recorded in berth-package.json (what the image's files must hash to). */
export interface PackagedModel {
  name: string;
  version: number;
  /** Folder inside the package, e.g. `models/mlp/1`. */
  path: string;
  sha256: string;
  size: number;
  files: CopiedFile[];
}

export interface ServicePackage {
  /** The folder or archive written. */
  path: string;
  kind: 'folder' | 'tar';
  /** Bytes of the folder's files, or of the archive. */
  size: number;
  /** Bytes of the model files alone. */
  modelBytes: number;
  fileCount: number;
  models: PackagedModel[];
  baseImage: string;
  berthVersion: string;
  durationMs: number;
}

const LIMIT_DEFAULTS = {
  initTimeoutMs: 300_000, // 5 min to load a model
  maxBodyBytes: 100 * 1024 * 1024, // 100 MiB
} as const;

/**
 * Writes a self-contained build context for one scoring service: the models, the entry script's
 * code, a pinned package.json + package-lock.json (Berth packed from this installation plus the
 * script's dependencies, resolved with `npm install --package-lock-only`), serve.json, a Dockerfile
 * whose command is `berth serve`, .dockerignore and a README. Written to a temp folder next to
 * `outDir` and renamed into place (or archived), so a failure leaves nothing half-written.
 * @throws INVALID_ARGUMENT when outDir exists; PATH_NOT_FOUND for missing models or code;
 *   ENTRY_SCRIPT_NOT_FOUND; ENVIRONMENT_BUILD_FAILED when npm cannot resolve the dependencies.
 */
export async function buildServicePackage(o: BuildServicePackageOptions): Promise<ServicePackage> {
  const started = Date.now();
  if (o.models.length === 0) {
    throw new BerthError('INVALID_ARGUMENT', 'A package needs at least one model.', {
      hint: 'Pass -m NAME:VERSION.',
    });
  }
  const name = o.name ?? o.models[0].name;
  assertValidName(name, 'package name');
  const target = resolve(o.tar && !/\.(tar\.gz|tgz)$/.test(o.outDir) ? `${o.outDir}.tar.gz` : o.outDir);
  if (existsSync(target) && !(statSync(target).isDirectory() && readdirSync(target).length === 0)) {
    throw new BerthError('INVALID_ARGUMENT', `"${target}" exists already.`, {
      hint: 'Choose another -o path or remove the existing one.',
    });
  }
  const ic = o.inferenceConfig;
  if (ic.entryScript && !existsSync(ic.entryScript)) {
    throw new BerthError('ENTRY_SCRIPT_NOT_FOUND', `The entry script "${ic.entryScript}" does not exist.`, {
      hint: 'Fix "entryScript" / "sourceDirectory" in the inference config.',
    });
  }

  mkdirSync(dirname(target), { recursive: true });
  const folderName = basename(target).replace(/\.(tar\.gz|tgz)$/, '');
  const staging = join(dirname(target), `.${folderName}.building-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    const models = o.models.map((m) => packModel(m, staging));
    const modelBytes = models.reduce((n, m) => n + m.size, 0);

    const layout = planCodeLayout(ic, CODE_DIR);
    const codeDir = join(staging, CODE_DIR);
    mkdirSync(codeDir, { recursive: true });
    if (layout.sourceDirectory) copyTree(layout.sourceDirectory, codeDir, { skipBuildFolders: true });
    for (const f of layout.files) copyTree(f.from, codeDir);
    if (readdirSync(codeDir).length === 0) {
      writeFileSync(join(codeDir, 'README.md'), `The ${ic.runtime} runtime needs no entry script.\n`);
    }

    const vendor = join(staging, 'vendor');
    mkdirSync(vendor);
    const berth = await packBerthRuntime(vendor);

    const npmName = `berth-service-${name.toLowerCase().replace(/[^a-z0-9-]+/g, '-')}`;
    const pkg = {
      name: npmName,
      version: '1.0.0',
      private: true,
      description: `Berth scoring service "${name}" (generated package)`,
      type: 'module',
      engines: { node: '>=20' },
      scripts: { start: 'berth serve --spec serve.json' },
      dependencies: {
        ...(ic.runtime === 'node' ? (ic.dependencies ?? {}) : {}),
        berth: `file:vendor/${berth.fileName}`,
      },
    };
    writeJson(join(staging, 'package.json'), pkg);
    writeFileSync(join(staging, '.npmrc'), 'onnxruntime-node-install=skip\nfund=false\naudit=false\n');
    await lockDependencies(staging, o.npm ?? 'npm');

    const dc = o.deploymentConfig;
    const spec: ServeSpec = {
      name,
      models: models.map((m) => ({ name: m.name, version: m.version, path: m.path })),
      inferenceConfig: layout.config,
      host: '0.0.0.0',
      port: PACKAGE_PORT,
      replicas: 1,
      limits: {
        scoringTimeoutMs: dc?.scoringTimeoutMs ?? DEPLOYMENT_DEFAULTS.scoringTimeoutMs,
        initTimeoutMs: LIMIT_DEFAULTS.initTimeoutMs,
        maxConcurrentRequestsPerContainer:
          dc?.maxConcurrentRequestsPerContainer ?? DEPLOYMENT_DEFAULTS.maxConcurrentRequestsPerContainer,
        maxQueueWaitMs: dc?.maxQueueWaitMs ?? DEPLOYMENT_DEFAULTS.maxQueueWaitMs,
        maxBodyBytes: LIMIT_DEFAULTS.maxBodyBytes,
      },
    };
    writeJson(join(staging, 'serve.json'), spec);
    writeJson(join(staging, 'inferenceconfig.json'), layout.config);
    writeJson(join(staging, 'berth-package.json'), {
      name,
      berthVersion: berth.version,
      runtime: ic.runtime,
      models: models.map((m) => ({ ...m, files: m.files })),
    });

    const python: PythonPackages | undefined =
      ic.runtime === 'python' ? pythonPackagesFromCondaFile(ic.condaFile) : undefined;
    const baseImage =
      ic.baseImage || (ic.runtime === 'python' ? DEFAULT_PYTHON_BASE_IMAGE : DEFAULT_BASE_IMAGE);
    writeFileSync(
      join(staging, 'Dockerfile'),
      renderDockerfile({
        runtime: ic.runtime,
        baseImage,
        python,
        extraDockerfileSteps: ic.extraDockerfileSteps,
        berthTarball: berth.fileName,
      }),
    );
    writeFileSync(join(staging, '.dockerignore'), renderDockerignore());
    writeFileSync(
      join(staging, 'README.md'),
      renderPackageReadme({
        title: name,
        runtime: ic.runtime,
        baseImage,
        berthVersion: berth.version,
        models: models.map((m) => ({
          name: m.name,
          version: m.version,
          files: m.files.length,
          size: m.size,
        })),
        authEnabled: dc?.authEnabled ?? false,
        pipPackages: python?.pip ?? [],
      }),
    );

    const { bytes, count } = measure(staging);
    let size = bytes;
    if (o.tar) {
      const tmpArchive = `${staging}.tar.gz`;
      try {
        await create(
          { gzip: true, file: tmpArchive, cwd: staging, prefix: folderName, portable: true },
          readdirSync(staging),
        );
        renameSync(tmpArchive, target);
      } finally {
        rmSync(tmpArchive, { force: true });
      }
      size = statSync(target).size;
    } else {
      if (existsSync(target)) rmSync(target, { recursive: true });
      renameSync(staging, target);
    }
    return {
      path: target,
      kind: o.tar ? 'tar' : 'folder',
      size,
      modelBytes,
      fileCount: count,
      models,
      baseImage,
      berthVersion: berth.version,
      durationMs: Date.now() - started,
    };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function packModel(m: PackageModel, staging: string): PackagedModel {
  assertValidName(m.name, 'model name');
  const rel = `models/${m.name}/${m.version}`;
  const files = copyTree(m.path, join(staging, rel));
  if (files.length === 0) {
    throw new BerthError('EMPTY_MODEL', `Model "${m.name}:${m.version}" has no files at "${m.path}".`);
  }
  const sha256 = m.sha256 ?? (files.length === 1 ? files[0].sha256 : folderSha256(files));
  return {
    name: m.name,
    version: m.version,
    path: rel,
    sha256,
    size: files.reduce((n, f) => n + f.size, 0),
    files,
  };
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

function measure(dir: string): { bytes: number; count: number } {
  let bytes = 0;
  let count = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    bytes += statSync(join(e.parentPath, e.name)).size;
    count++;
  }
  return { bytes, count };
}

/** Resolves the dependency tree into package-lock.json without installing anything. */
function lockDependencies(dir: string, npm: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      npm,
      ['install', '--package-lock-only', '--no-audit', '--no-fund', '--ignore-scripts'],
      {
        cwd: dir,
        env: { ...process.env, npm_config_update_notifier: 'false', npm_config_loglevel: 'error' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('error', (cause) => {
      clearTimeout(timer);
      reject(
        new BerthError('ENVIRONMENT_BUILD_FAILED', `Cannot run "${npm}" to pin the package's dependencies.`, {
          hint: 'Install npm (it comes with Node.js) or put it on PATH.',
          cause,
        }),
      );
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0 && existsSync(join(dir, 'package-lock.json'))) return resolvePromise();
      reject(
        new BerthError(
          'ENVIRONMENT_BUILD_FAILED',
          `npm could not resolve the package's dependencies (exit ${code}): ${output.trim().split('\n').slice(-5).join(' | ')}`,
          {
            hint: 'Check the "dependencies" of the inference config and that the npm registry is reachable.',
          },
        ),
      );
    });
  });
}
