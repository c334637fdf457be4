import { BerthError, toBerthError } from '../core/errors.js';

/** Global flags every command takes. */
export interface GlobalOptions {
  workspace?: string;
  url?: string;
  token?: string;
  json?: boolean;
}

export interface Column<T> {
  header: string;
  value: (row: T) => string | number | undefined | null;
}

/** Renders rows as an aligned, space-padded table (for people; `--json` is for scripts). */
export function formatTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((r) => columns.map((c) => String(c.value(r) ?? '')));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i].length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header.toUpperCase())), ...cells.map(line)].join('\n');
}

/** Renders one object as aligned `key: value` lines. */
export function formatFields(fields: Record<string, unknown>): string {
  const width = Math.max(...Object.keys(fields).map((k) => k.length));
  return Object.entries(fields)
    .map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join('\n');
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints the result as JSON under `--json`, else the human text. */
export function printResult(opts: GlobalOptions, value: unknown, human: () => string): void {
  if (opts.json) printJson(value);
  else process.stdout.write(`${human()}\n`);
}

/** Prints an error (Error / Code / Try, or JSON under --json) on stderr and exits with its code. */
export function exitWithError(err: unknown, json: boolean): never {
  const e: BerthError = err instanceof BerthError ? err : toBerthError(err);
  if (json) {
    process.stderr.write(`${JSON.stringify({ error: e.toJSON() })}\n`);
  } else {
    let text = `Error: ${e.message}\nCode:  ${e.code}\n`;
    if (e.hint) text += `Try:   ${e.hint}\n`;
    if (e.code === 'INTERNAL' && process.env.BERTH_DEBUG && e.stack) text += `${e.stack}\n`;
    process.stderr.write(text);
  }
  // stdout/stderr are synchronous for files and pipes on Linux, so nothing written is lost.
  process.exit(e.exitCode);
}
