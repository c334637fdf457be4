import {
  chmodSync,
  closeSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { get as httpGet } from 'node:http';
import { join } from 'node:path';

/** `<workspace>/control-plane.json`: how to reach the workspace's control plane (mode 0600). */
export interface ControlPlaneInfo {
  /** Base URL of the management API, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Pid of the running control plane; null once it stopped. */
  pid: number | null;
  /** Bearer token the API requires; kept across restarts. */
  token: string;
  host: string;
  port: number;
  startedAt: string;
}

export function controlPlaneInfoFile(workspaceDir: string): string {
  return join(workspaceDir, 'control-plane.json');
}

export function controlPlaneLogFile(workspaceDir: string): string {
  return join(workspaceDir, 'control-plane.log');
}

export function readControlPlaneInfo(workspaceDir: string): ControlPlaneInfo | undefined {
  try {
    return JSON.parse(readFileSync(controlPlaneInfoFile(workspaceDir), 'utf8')) as ControlPlaneInfo;
  } catch {
    return undefined;
  }
}

/** Writes the file atomically (temp + rename), readable by its owner only (it holds the token). */
export function writeControlPlaneInfo(workspaceDir: string, info: ControlPlaneInfo): void {
  const file = controlPlaneInfoFile(workspaceDir);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/**
 * True when process `pid` runs. A killed process whose parent has not reaped it yet (a zombie: a
 * detached control plane is reparented to PID 1, which may reap late) counts as gone.
 */
export function isProcessAlive(pid: number | null | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) STATE ...": comm may hold spaces and parentheses, the state follows the last ")"
    return stat.charAt(stat.lastIndexOf(')') + 2) === 'Z';
  } catch {
    return false; // no /proc (macOS) or already gone: kill(0) answered
  }
}

/** True when the API at `info.url` answers its health route as the recorded process (node:http: no undici to load). */
export function probeControlPlane(info: ControlPlaneInfo, timeoutMs = 2000): Promise<boolean> {
  if (!isProcessAlive(info.pid)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const req = httpGet(
      `${info.url}/api/health`,
      { timeout: timeoutMs, headers: { connection: 'close' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          try {
            resolve(res.statusCode === 200 && (JSON.parse(text) as { pid?: number }).pid === info.pid);
          } catch {
            resolve(false);
          }
        });
        res.on('error', () => resolve(false));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/**
 * Takes `<workspace>/control-plane.lock` for this process (one control plane per workspace).
 * A lock whose pid is dead is taken over.
 * @returns false when another live process holds it.
 */
export function acquireControlPlaneLock(workspaceDir: string): boolean {
  const file = join(workspaceDir, 'control-plane.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let holder = 0;
      try {
        holder = Number(readFileSync(file, 'utf8'));
      } catch {
        continue;
      }
      if (holder === process.pid) return true;
      if (isProcessAlive(holder)) return false;
      rmSync(file, { force: true });
    }
  }
  return false;
}

export function releaseControlPlaneLock(workspaceDir: string): void {
  const file = join(workspaceDir, 'control-plane.lock');
  try {
    if (Number(readFileSync(file, 'utf8')) === process.pid) rmSync(file, { force: true });
  } catch {
    // already gone
  }
}
