import { type DestinationStream, type Logger, multistream, pino } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  name: string;
  level?: string;
  /** Also append the JSON lines to this file (what `berth service logs` reads). */
  file?: string;
  /** Write to stderr instead of stdout (CLI processes keep stdout for results). */
  stderr?: boolean;
}

/** A pino logger writing JSON lines to stdout/stderr and, optionally, a file. */
export function createLogger(options: LoggerOptions): Logger {
  const level = options.level ?? 'info';
  const streams: { stream: DestinationStream; level: string }[] = [
    { stream: pino.destination({ dest: options.stderr ? 2 : 1, sync: false }), level },
  ];
  if (options.file) {
    streams.push({
      stream: pino.destination({ dest: options.file, mkdir: true, append: true, sync: false }),
      level,
    });
  }
  return pino({ name: options.name, level, base: { pid: process.pid } }, multistream(streams));
}
