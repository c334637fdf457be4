import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { BerthError } from '../../../core/errors.js';
import type { ServeSpec, ServeState } from '../../../serving/serve-spec.js';
import { writeServeSpecFile } from '../../../serving/serve-spec-file.js';
import type { ServiceProcess } from '../../../store/service-store.js';
import { type BerthCommand, berthCommand } from '../../berth-command.js';
import { readLogTail } from '../../service-log.js';
import { type ServicePaths, servicePaths } from '../../service-paths.js';
import type { ObservedReplicas, Target } from '../../target.js';
import { assertPortFree } from './port-availability.js';

export interface LocalTargetOptions {
  workspaceDir: string;
  /** The `berth` CLI to start replicas with (default: this installation's). */
  berth?: BerthCommand;
  /** Environment of replica processes (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

/** How often the log is searched for a failed rolling update while one is pending (ms). */
const RELOAD_SCAN_MS = 1_000;

/** How long `stop` lets a replica process drain before killing its process group (ms). */
export const DEFAULT_STOP_TIMEOUT_MS = 15_000;

/**
 * Runs each service as ONE detached `berth serve --spec <dir>/spec.json --state-file <dir>/state.json`
 * process in its own process group, so it outlives the control plane; the control plane adopts it
 * again from the recorded pid and the state file. Update = rewrite the spec + SIGHUP (rolling, done by
 * the replica's supervisor); delete = SIGTERM (drain), SIGKILL of the group after a timeout.
 * Assumes Linux-like signals; a recycled pid is told apart by its command line (/proc) where available.
 */
export class LocalTarget implements Target {
  readonly computeType = 'local' as const;
  private readonly berth: BerthCommand;
  private readonly scans = new Map<string, { since: number; at: number; result: string | undefined }>();

  constructor(private readonly options: LocalTargetOptions) {
    this.berth = options.berth ?? berthCommand();
  }

  paths(name: string): ServicePaths {
    return servicePaths(this.options.workspaceDir, name);
  }

  async observe(
    name: string,
    process: ServiceProcess | undefined,
    reloadSentAt?: string,
  ): Promise<ObservedReplicas> {
    if (!process) return { running: false };
    const paths = this.paths(name);
    const running = isOurProcess(process.pid, paths.specFile);
    const serveState = readServeState(paths.stateFile);
    const observed: ObservedReplicas = {
      running,
      serveState: serveState?.pid === process.pid ? serveState : undefined,
    };
    if (reloadSentAt)
      observed.reloadFailure = this.reloadFailure(name, paths.logFile, Date.parse(reloadSentAt));
    return observed;
  }

  /** The log scan for a failed reload, at most once a second per service (the log grows fast under load). */
  private reloadFailure(name: string, logFile: string, since: number): string | undefined {
    const last = this.scans.get(name);
    const now = Date.now();
    if (last && last.since === since && now - last.at < RELOAD_SCAN_MS) return last.result;
    const result = findReloadFailure(logFile, since);
    this.scans.set(name, { since, at: now, result });
    return result;
  }

  async start(name: string, spec: ServeSpec, generation: number): Promise<ServiceProcess> {
    const paths = this.paths(name);
    // A control plane killed between spawning a replica and recording its pid leaves an unknown one behind.
    await killUnrecorded(paths.specFile);
    await assertPortFree(spec.port, spec.host);
    mkdirSync(paths.dir, { recursive: true });
    rmSync(paths.stateFile, { force: true });
    this.writeSpec(name, spec);
    // stdout gets what is printed outside the logger ("Listening on ..."); the JSON lines go to the log
    // only (spec.logFileOnly); stderr (crashes before logging starts) goes into the log itself, in
    // order with the JSON lines.
    const out = openSync(paths.consoleFile, 'a');
    const err = openSync(paths.logFile, 'a');
    let pid: number | undefined;
    try {
      const child = spawn(
        this.berth.command,
        [...this.berth.args, 'serve', '--spec', paths.specFile, '--state-file', paths.stateFile],
        {
          detached: true,
          stdio: ['ignore', out, err],
          env: this.options.env ?? globalThis.process.env,
          cwd: workingDirectory(spec, paths.dir),
        },
      );
      child.on('error', () => {});
      child.unref();
      pid = child.pid;
    } finally {
      closeSync(out);
      closeSync(err);
    }
    if (!pid) {
      throw new BerthError('DEPLOYMENT_FAILED', `Could not start the replica process of service "${name}".`, {
        hint: `Check that "${this.berth.command}" runs; see ${paths.consoleFile}.`,
      });
    }
    return { pid, port: spec.port, startedAt: new Date().toISOString(), generation };
  }

  async reload(name: string, spec: ServeSpec, process: ServiceProcess): Promise<void> {
    this.writeSpec(name, spec);
    signal(process.pid, 'SIGHUP');
  }

  writeSpec(name: string, spec: ServeSpec): void {
    writeServeSpecFile(this.paths(name).specFile, spec);
  }

  async stop(
    name: string,
    process: ServiceProcess | undefined,
    timeoutMs = DEFAULT_STOP_TIMEOUT_MS,
  ): Promise<void> {
    if (!process) return;
    const { specFile } = this.paths(name);
    if (isOurProcess(process.pid, specFile)) {
      signal(process.pid, 'SIGTERM');
      const deadline = Date.now() + timeoutMs;
      while (isOurProcess(process.pid, specFile) && Date.now() < deadline) await sleep(50);
    }
    killGroup(process.pid);
  }

  async remove(name: string): Promise<void> {
    rmSync(this.paths(name).dir, { recursive: true, force: true });
  }
}

/**
 * Where a replica runs: the entry script's source folder (as the seed system's container, where the
 * script's relative file opens work), else the service's folder.
 */
function workingDirectory(spec: ServeSpec, serviceDir: string): string {
  const ic = spec.inferenceConfig;
  const dir = ic.sourceDirectory ?? (ic.entryScript ? dirname(ic.entryScript) : undefined);
  return dir && existsSync(dir) ? dir : serviceDir;
}

/** Kills (by process group) every process still running `specFile` (Linux /proc; elsewhere a no-op). */
async function killUnrecorded(specFile: string): Promise<void> {
  let pids: number[];
  try {
    pids = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number)
      .filter((pid) => pid !== globalThis.process.pid && isOurProcess(pid, specFile));
  } catch {
    return;
  }
  for (const pid of pids) {
    killGroup(pid);
    signal(pid, 'SIGKILL');
  }
  const deadline = Date.now() + 5_000;
  while (pids.some((pid) => isOurProcess(pid, specFile)) && Date.now() < deadline) await sleep(50);
}

/** Kills what is left of a replica's process group (orphaned workers of a killed supervisor). */
export function killGroup(pid: number): void {
  try {
    globalThis.process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is gone already.
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    globalThis.process.kill(pid, sig);
  } catch {
    // The process exited meanwhile; the next observation sees it.
  }
}

/** Alive, not a zombie, and (where /proc exists) still running this service's spec. */
function isOurProcess(pid: number, specFile: string): boolean {
  try {
    globalThis.process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes(specFile);
  } catch {
    return globalThis.process.platform !== 'linux';
  }
}

/**
 * The replica supervisor logs a failed rolling update as "Reload to generation N failed; ..." (its
 * state file may not change when the same failure repeats): the newest such line since `since`.
 */
function findReloadFailure(logFile: string, since: number): string | undefined {
  const lines = readLogTail(logFile, 400).split('\n').reverse();
  for (const line of lines) {
    if (!line.includes('Reload to generation')) continue;
    try {
      const entry = JSON.parse(line) as { time?: number; msg?: string; level?: number };
      if (
        (entry.level ?? 0) >= 50 &&
        (entry.time ?? 0) >= since &&
        /^Reload to generation \d+ failed/.test(entry.msg ?? '')
      ) {
        return entry.msg;
      }
    } catch {
      // not a JSON line
    }
  }
  return undefined;
}

function readServeState(file: string): ServeState | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ServeState;
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
