import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import type { Logger } from 'pino';
import { BerthError } from '../../../core/errors.js';
import { type PythonRequirement, readCondaFile } from './conda-file.js';
import { debianPackageOf, type PackageCheck, packagesToCheck } from './python-packages.js';
import { PYTHON_SUPPORT_DIR } from './python-support-dir.js';

/** The interpreter a service's workers run, and the virtual environment it belongs to, if Berth built one. */
export interface PythonEnvironment {
  interpreter: string;
  /** Version reported by the interpreter (known when a conda file was checked). */
  pythonVersion?: string;
  /** The cached virtual environment, when some packages had to be installed. */
  venvDir?: string;
}

export interface PreparePythonEnvironmentOptions {
  /** Base interpreter (config.pythonInterpreter, else BERTH_PYTHON, else python3). */
  interpreter: string;
  /** Absolute path of the conda file, if the inference config names one. */
  condaFile?: string;
  /** Root of the cached virtual environments (one folder per conda file hash and interpreter). */
  cacheDir: string;
  log: Logger;
  /** Time allowed for `pip install` (default 10 min). */
  installTimeoutMs?: number;
  /** Environment of the interpreter, venv and pip processes (PIP_INDEX_URL, PIP_FIND_LINKS, …); default: this process's. */
  env?: NodeJS.ProcessEnv;
}

interface CheckReport {
  python: string;
  executable: string;
  prefix: string;
  missing: string[];
  installed: Record<string, string | null>;
}

/** Where virtual environments go when the replica was given no environment folder. */
export function defaultPythonEnvCacheDir(): string {
  return join(homedir(), '.cache', 'berth', 'python-envs');
}

const ENV_CHECK_SCRIPT = join(PYTHON_SUPPORT_DIR, 'berth_env_check.py');
const MARKER = '.berth-env.json';
/** pip -vv says so for each index it could not reach. */
const UNREACHABLE_INDEX = /Could not fetch URL (\S+?): connection error/g;
const NOT_FOUND_ON_INDEX = /No matching distribution found|Could not find a version that satisfies/i;

/**
 * Makes sure the packages listed in the conda file are importable: checks the interpreter with
 * one call; when some are missing, builds (or reuses) a virtual environment with
 * `--system-site-packages`, keyed by the conda file's hash and the interpreter, and installs
 * them with pip.
 * @throws PYTHON_PACKAGES_MISSING when they cannot be installed (no reachable index, or not on it),
 *   ENVIRONMENT_BUILD_FAILED when pip or venv fail otherwise, INIT_FAILED when the interpreter does not run.
 */
export async function preparePythonEnvironment(
  options: PreparePythonEnvironmentOptions,
): Promise<PythonEnvironment> {
  const { interpreter, condaFile, log } = options;
  if (!condaFile) return { interpreter };
  const conda = readCondaFile(condaFile);
  const what = basename(condaFile);
  if (conda.skipped.length > 0) {
    log.warn({ condaFile, skipped: conda.skipped }, `Entries of ${what} Berth cannot check were skipped`);
  }
  const { checks, byName } = packagesToCheck(conda.requirements);
  const report = await checkInterpreter(interpreter, checks, options.env);
  warnOnVersions(log, what, conda.pythonVersion, report, byName);
  if (report.missing.length === 0) return { interpreter, pythonVersion: report.python };

  const missing = report.missing.map((name) => requirementOf(byName, name));
  const venvDir = join(options.cacheDir, `py-${environmentKey(condaFile, report.executable)}`);
  const venvPython = join(venvDir, 'bin', 'python');
  if (existsSync(join(venvDir, MARKER))) {
    const again = await checkInterpreter(venvPython, checks, options.env).catch(() => undefined);
    if (again && again.missing.length === 0) {
      log.info({ venvDir }, 'Using the cached Python environment');
      return { interpreter: venvPython, pythonVersion: again.python, venvDir };
    }
    log.warn({ venvDir }, 'The cached Python environment is incomplete; building it again');
    rmSync(venvDir, { recursive: true, force: true });
  }
  log.info(
    { venvDir, packages: missing.map((r) => r.pipSpec) },
    `Installing the packages of ${what} missing from ${interpreter}`,
  );
  await buildVirtualEnvironment({ ...options, venvDir, missing, report, what });
  const built = await checkInterpreter(venvPython, checks, options.env);
  if (built.missing.length > 0) {
    throw packagesMissing(
      what,
      built,
      built.missing.map((n) => requirementOf(byName, n)),
      'pip installed them, but they are not importable',
    );
  }
  return { interpreter: venvPython, pythonVersion: built.python, venvDir };
}

function requirementOf(byName: Map<string, PythonRequirement>, name: string): PythonRequirement {
  for (const req of byName.values()) if (req.name === name) return req;
  return { name, extras: [], pipSpec: name, from: 'pip' };
}

function environmentKey(condaFile: string, executable: string): string {
  const hash = createHash('sha256');
  hash.update(readFileSync(condaFile));
  hash.update('\0');
  hash.update(safeRealpath(executable));
  return hash.digest('hex').slice(0, 16);
}

function safeRealpath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function run(
  file: string,
  args: string[],
  timeoutMs: number,
  env: NodeJS.ProcessEnv | undefined,
): Promise<{ ok: boolean; stdout: string; stderr: string; error?: Error & { code?: unknown } }> {
  return new Promise((resolve) => {
    const options = { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' as const, env };
    execFile(file, args, options, (error, stdout, stderr) => {
      resolve({ ok: !error, stdout, stderr, error: error ?? undefined });
    });
  });
}

/** One interpreter call: which of `checks` it cannot import, and its version. */
async function checkInterpreter(
  interpreter: string,
  checks: PackageCheck[],
  env: NodeJS.ProcessEnv | undefined,
): Promise<CheckReport> {
  const result = await run(interpreter, [ENV_CHECK_SCRIPT, JSON.stringify(checks)], 60_000, env);
  if (result.error?.code === 'ENOENT') {
    throw new BerthError('INIT_FAILED', `The Python interpreter "${interpreter}" was not found.`, {
      hint: 'Set "pythonInterpreter" in the inference config or BERTH_PYTHON to a Python 3 interpreter.',
      cause: result.error,
    });
  }
  try {
    return JSON.parse(result.stdout.trim().split('\n').pop() ?? '') as CheckReport;
  } catch (err) {
    throw new BerthError(
      'INIT_FAILED',
      `Checking the packages of "${interpreter}" failed: ${tail(result.stderr)}`,
      {
        hint: 'Berth needs a Python 3.8+ interpreter; set "pythonInterpreter" or BERTH_PYTHON.',
        cause: err,
      },
    );
  }
}

function warnOnVersions(
  log: Logger,
  what: string,
  wanted: string | undefined,
  report: CheckReport,
  byName: Map<string, PythonRequirement>,
): void {
  if (wanted && majorMinor(wanted) !== majorMinor(report.python)) {
    log.warn(
      { wanted, python: report.python, interpreter: report.executable },
      `${what} asks for Python ${wanted}; the workers run Python ${report.python} (Berth does not install ` +
        'Python itself: set "pythonInterpreter" or BERTH_PYTHON to choose another interpreter)',
    );
  }
  const differing: string[] = [];
  for (const req of byName.values()) {
    const installed = report.installed[req.name];
    if (req.pinned && installed && installed !== req.pinned)
      differing.push(`${req.name} ${installed} (asked ${req.pinned})`);
  }
  if (differing.length > 0) {
    log.warn(
      { packages: differing },
      `Installed versions differ from the pins of ${what}; using them anyway`,
    );
  }
}

function majorMinor(version: string): string {
  return version.split('.').slice(0, 2).join('.');
}

async function buildVirtualEnvironment(args: {
  interpreter: string;
  venvDir: string;
  missing: PythonRequirement[];
  report: CheckReport;
  what: string;
  cacheDir: string;
  log: Logger;
  installTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}): Promise<void> {
  const { interpreter, venvDir, missing, report, what, env } = args;
  mkdirSync(args.cacheDir, { recursive: true });
  const building = `${venvDir}.building-${process.pid}-${Date.now()}`;
  try {
    // without pip first (fast): with system site packages the interpreter's own pip is visible
    const venv = ['-m', 'venv', '--system-site-packages'];
    let made = await run(interpreter, [...venv, '--without-pip', building], 120_000, env);
    const python = join(building, 'bin', 'python');
    if (made.ok && !(await run(python, ['-m', 'pip', '--version'], 60_000, env)).ok) {
      rmSync(building, { recursive: true, force: true });
      made = await run(interpreter, [...venv, building], 300_000, env);
    }
    if (!made.ok) {
      throw new BerthError(
        'ENVIRONMENT_BUILD_FAILED',
        `Creating a virtual environment with ${interpreter} failed: ${tail(made.stderr || made.stdout)}`,
        {
          hint: 'On Debian: apt-get install python3-venv (or provide the packages with apt-get install python3-…).',
        },
      );
    }
    const pipArgs = [
      'install',
      '-vv',
      '--no-input',
      '--disable-pip-version-check',
      '--retries',
      '0',
      '--timeout',
      '15',
    ];
    const specs = missing.map((r) => r.pipSpec);
    const pip = await run(python, ['-m', 'pip', ...pipArgs, ...specs], args.installTimeoutMs ?? 600_000, env);
    if (!pip.ok) {
      const output = `${pip.stdout}\n${pip.stderr}`;
      const unreachable = [
        ...new Set([...output.matchAll(UNREACHABLE_INDEX)].map((m) => new URL(m[1]).origin)),
      ];
      if (NOT_FOUND_ON_INDEX.test(output) || unreachable.length > 0) {
        const why =
          unreachable.length > 0
            ? `no reachable package index has them; unreachable: ${unreachable.join(', ')}`
            : 'the reachable package indexes do not have them';
        throw packagesMissing(what, report, missing, why);
      }
      const errors = output.split('\n').filter((l) => l.startsWith('ERROR:'));
      throw new BerthError(
        'ENVIRONMENT_BUILD_FAILED',
        `pip could not install the packages of ${what}: ${errors.length > 0 ? errors.join('\n') : tail(output)}`,
        { hint: 'Install them for the interpreter yourself, or fix the conda file.' },
      );
    }
    writeFileSync(
      join(building, MARKER),
      `${JSON.stringify({ condaFile: what, base: report.executable, installed: missing.map((r) => r.pipSpec), at: new Date().toISOString() })}\n`,
    );
    try {
      renameSync(building, venvDir);
    } catch (err) {
      if (!existsSync(join(venvDir, MARKER))) throw err;
      // another replica finished the same environment first: use theirs
    }
    args.log.info({ venvDir }, `Built the Python environment of ${what}`);
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
}

function packagesMissing(
  what: string,
  report: CheckReport,
  missing: PythonRequirement[],
  why: string,
): BerthError {
  const names = missing.map((r) => r.name);
  const debian = [...new Set(missing.map((r) => debianPackageOf(r.name)))];
  return new BerthError(
    'PYTHON_PACKAGES_MISSING',
    `Python packages listed in ${what} are not importable by ${report.executable} (Python ${report.python}) and ` +
      `could not be installed (${why}): ${names.join(', ')}.`,
    {
      hint:
        `Provide them: install them for that interpreter (Debian: apt-get install ${debian.join(' ')}), ` +
        'or make a package index reachable (PIP_INDEX_URL=https://…, or PIP_FIND_LINKS=/folder/of/wheels), ' +
        'or choose an interpreter that has them ("pythonInterpreter" in the inference config, or BERTH_PYTHON).',
      details: { missing: names, interpreter: report.executable },
    },
  );
}

function tail(text: string, lines = 12): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}
