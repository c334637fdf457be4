import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { BerthError } from '../core/errors.js';
import { type BerthCommand, berthCommand } from './berth-command.js';
import {
  type ControlPlaneInfo,
  controlPlaneLogFile,
  isProcessAlive,
  probeControlPlane,
  readControlPlaneInfo,
} from './control-plane-info.js';
import { readLogTail } from './service-log.js';

export interface EnsureControlPlaneOptions {
  /** Port for a control plane started now (default: the last one used, else a free one). */
  port?: number;
  host?: string;
  /** How long to wait for a started control plane to answer (ms; default 20 s). */
  timeoutMs?: number;
  berth?: BerthCommand;
  env?: NodeJS.ProcessEnv;
}

/** The running control plane of a workspace, if its process is alive and its API answers. */
export async function findControlPlane(workspaceDir: string): Promise<ControlPlaneInfo | undefined> {
  const info = readControlPlaneInfo(workspaceDir);
  return info && (await probeControlPlane(info)) ? info : undefined;
}

/**
 * Returns the workspace's control plane, starting it in the background (detached, its output in
 * `<workspace>/control-plane.log`) when it is not running. Safe to call concurrently: a second
 * control plane refuses to start and the caller gets the first one.
 * @throws CONTROL_PLANE_UNAVAILABLE when it does not come up in time (with the end of its log).
 */
export async function ensureControlPlane(
  workspaceDir: string,
  options: EnsureControlPlaneOptions = {},
): Promise<ControlPlaneInfo> {
  const running = await findControlPlane(workspaceDir);
  if (running) return running;
  mkdirSync(workspaceDir, { recursive: true });
  const berth = options.berth ?? berthCommand();
  const args = [...berth.args, '--workspace', workspaceDir, 'server', 'start', '--foreground'];
  if (options.port !== undefined) args.push('--port', String(options.port));
  if (options.host) args.push('--host', options.host);
  const logFile = controlPlaneLogFile(workspaceDir);
  const out = openSync(logFile, 'a');
  let exited = false;
  let pid: number | undefined;
  try {
    const child = spawn(berth.command, args, {
      detached: true,
      cwd: workspaceDir,
      stdio: ['ignore', out, out],
      env: options.env ?? process.env,
    });
    child.on('error', () => (exited = true));
    child.on('exit', () => (exited = true));
    child.unref();
    pid = child.pid;
  } finally {
    closeSync(out);
  }
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  while (Date.now() < deadline) {
    const info = readControlPlaneInfo(workspaceDir);
    if (info && (info.pid === pid || exited) && (await probeControlPlane(info))) return info;
    if (exited && !(info && isProcessAlive(info.pid))) break;
    await sleep(50);
  }
  const log = readLogTail(logFile, 20);
  // The foreground process prints "Error: <why>" (e.g. its port is taken) before exiting.
  const why = [...log.matchAll(/^Error: (.*)$/gm)].pop()?.[1];
  throw new BerthError(
    'CONTROL_PLANE_UNAVAILABLE',
    `The control plane of workspace ${workspaceDir} did not start${why ? `: ${why}` : ''}.`,
    {
      hint: `See ${logFile}; or run it in the foreground: berth server start --foreground`,
      details: { log },
    },
  );
}

/**
 * Stops the workspace's control plane (SIGTERM, then SIGKILL after `timeoutMs`); services keep running.
 * @returns the pid stopped, or undefined when none ran.
 */
export async function stopControlPlane(
  workspaceDir: string,
  timeoutMs = 10_000,
): Promise<number | undefined> {
  const info = readControlPlaneInfo(workspaceDir);
  const pid = info?.pid;
  if (!pid || !isProcessAlive(pid)) return undefined;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (isProcessAlive(pid) && Date.now() < deadline) await sleep(50);
  if (isProcessAlive(pid)) process.kill(pid, 'SIGKILL');
  return pid;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
