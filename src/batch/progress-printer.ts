import type { BatchProgress } from './batch-summary.js';

/** How often a non-terminal gets a progress line. */
const PLAIN_INTERVAL_MS = 5000;
const BAR_WIDTH = 20;

/**
 * Renders batch progress on `stream`: on a terminal a bar redrawn in place (items done, rate,
 * ETA); otherwise one plain line every 5 s, so logs stay readable. `finish()` ends the bar's line.
 */
export function createProgressPrinter(
  stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
): {
  update(progress: BatchProgress): void;
  finish(): void;
} {
  const tty = stream.isTTY === true;
  let lastPlain = 0;
  let drawn = false;
  return {
    update(p) {
      if (tty) {
        const filled = Math.round(p.fraction * BAR_WIDTH);
        const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
        let line = `${bar} ${percent(p.fraction)} ${describe(p)}`;
        const width = stream.columns || 100;
        if (line.length > width - 1) line = line.slice(0, width - 1);
        stream.write(`\r${line}\x1b[K`);
        drawn = true;
        return;
      }
      if (p.done || p.elapsedMs - lastPlain < PLAIN_INTERVAL_MS) return;
      lastPlain = p.elapsedMs;
      stream.write(`batch: ${percent(p.fraction)} ${describe(p)}\n`);
    },
    finish() {
      if (tty && drawn) stream.write('\n');
    },
  };
}

function describe(p: BatchProgress): string {
  let text = `${grouped(p.items)} items ${grouped(p.itemsPerSecond)}/s`;
  if (p.failures > 0) text += ` ${grouped(p.failures)} failed`;
  if (p.etaSeconds !== undefined) text += ` ETA ${duration(p.etaSeconds)}`;
  return text;
}

function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(1).padStart(5)}%`;
}

/** 42 s, 3 min 05 s, 2 h 07 min. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** 1234567 → "1,234,567" (without Intl: its first use costs tens of milliseconds). */
export function grouped(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
