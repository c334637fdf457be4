import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Entries older than this are removed even when their owner pid looks alive (pid reuse). */
const MAX_AGE_MS = 24 * 3600_000; // 24 h

/**
 * The workspace's `tmp/` folder, where every write starts before it is renamed into place.
 * Entries are named `<pid>-<random>-<label>`; `cleanStale()` removes those whose process is gone,
 * which is what a killed registration or materialization leaves behind. Entries of running
 * processes (a concurrent registration) are kept.
 */
export class TempArea {
  constructor(readonly dir: string) {}

  /** A fresh path inside the area (not created). `label` ends the name, for people reading the folder. */
  path(label: string): string {
    mkdirSync(this.dir, { recursive: true });
    return join(this.dir, `${process.pid}-${randomBytes(6).toString('hex')}-${label}`);
  }

  /** Removes leftovers of dead processes. @returns the names removed. */
  cleanStale(): string[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const removed: string[] = [];
    for (const name of names) {
      const pid = Number(/^(\d+)-/.exec(name)?.[1]);
      if (pid === process.pid) continue;
      const full = join(this.dir, name);
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid) && !isOld(full)) continue;
      try {
        rmSync(full, { recursive: true, force: true });
        removed.push(name);
      } catch {
        // Another process cleaning at the same moment, or a permission problem: retried next time.
      }
    }
    return removed;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isOld(path: string): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs > MAX_AGE_MS;
  } catch {
    return false;
  }
}
