import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

const LEVELS = { debug: 20, info: 30, warn: 40, error: 50 } as const;

/**
 * Appends one pino-compatible JSON line about a service to its log (`berth service logs` shows it
 * next to the replicas' own lines), e.g. why an environment build failed, with npm's output.
 */
export function appendServiceEvent(
  file: string,
  level: keyof typeof LEVELS,
  msg: string,
  extra: Record<string, unknown> = {},
): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    const line = {
      level: LEVELS[level],
      time: Date.now(),
      pid: process.pid,
      name: 'control-plane',
      ...extra,
      msg,
    };
    appendFileSync(file, `${JSON.stringify(line)}\n`);
  } catch {
    // A log line must never break reconciliation.
  }
}

/** The last `tail` lines of `file` (all when `tail` is absent); '' when the file does not exist. */
export function readLogTail(file: string, tail?: number): string {
  if (!existsSync(file)) return '';
  const size = statSync(file).size;
  // Read backwards in chunks until enough newlines were seen (logs can be large).
  const fd = openSync(file, 'r');
  try {
    if (tail === undefined) {
      const buf = Buffer.alloc(size);
      readSync(fd, buf, 0, size, 0);
      return buf.toString('utf8');
    }
    let start = size;
    let text = '';
    const chunk = 64 * 1024;
    while (start > 0) {
      const from = Math.max(0, start - chunk);
      const buf = Buffer.alloc(start - from);
      readSync(fd, buf, 0, buf.length, from);
      text = buf.toString('utf8') + text;
      start = from;
      if (text.split('\n').length > tail + 1) break;
    }
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return lines
      .slice(-tail)
      .map((l) => `${l}\n`)
      .join('');
  } finally {
    closeSync(fd);
  }
}

/** Bytes of `file` from `offset` to its end, and the new offset (for `--follow`). */
export function readLogFrom(file: string, offset: number): { text: string; offset: number } {
  if (!existsSync(file)) return { text: '', offset: 0 };
  const size = statSync(file).size;
  if (size < offset) offset = 0; // truncated or replaced
  if (size === offset) return { text: '', offset };
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(size - offset);
    readSync(fd, buf, 0, buf.length, offset);
    // Only hand out whole lines; the rest comes with the next read.
    const lastNewline = buf.lastIndexOf(0x0a);
    if (lastNewline < 0) return { text: '', offset };
    return { text: buf.subarray(0, lastNewline + 1).toString('utf8'), offset: offset + lastNewline + 1 };
  } finally {
    closeSync(fd);
  }
}
