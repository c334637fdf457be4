/** Helpers every benchmark script shares: printing a line and the median of repeated runs. */

export function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Median of the values (mean of the two middle ones for an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
