import { type DestinationStream, type Logger, multistream, pino } from 'pino';
import { BerthError } from './errors.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  name: string;
  level?: string;
  /** Also append the JSON lines to this file (what `berth service logs` reads). */
  file?: string;
  /** Write to stderr instead of stdout (CLI processes keep stdout for results). */
  stderr?: boolean;
  /** With `file`: write to the file only, not to stdout/stderr as well. */
  fileOnly?: boolean;
}

/** A destination that also takes bytes: a batch of lines is encoded once for every destination. */
export interface ByteDestination {
  writeBytes(bytes: Buffer): void;
}

/** The byte-taking destinations behind a logger's stream (keyed by its multistream). */
const byteDestinations = new WeakMap<object, readonly ByteDestination[]>();

/**
 * A pino logger writing JSON lines to stdout/stderr and, optionally, a file.
 * @throws INVALID_ARGUMENT when the file cannot be opened for appending (it is opened here).
 */
export function createLogger(options: LoggerOptions): Logger {
  const level = options.level ?? 'info';
  const destinations: (DestinationStream & ByteDestination)[] = [];
  if (!options.file || !options.fileOnly) destinations.push(byteDestination(options.stderr ? 2 : 1));
  if (options.file) destinations.push(byteDestination(options.file));
  const stream = multistream(destinations.map((stream) => ({ stream, level })));
  byteDestinations.set(stream, destinations);
  return pino({ name: options.name, level, base: { pid: process.pid } }, stream);
}

/**
 * The destinations of a logger made by `createLogger` (each takes every line at its level), or
 * undefined for any other logger.
 */
export function byteDestinationsOf(log: Logger): readonly ByteDestination[] | undefined {
  const stream = (log as unknown as Record<symbol, unknown>)[pino.symbols.streamSym];
  return typeof stream === 'object' && stream !== null ? byteDestinations.get(stream) : undefined;
}

/**
 * A synchronous sonic-boom destination holding bytes: text from pino is encoded once on write. Its
 * text mode would measure the UTF-8 length of the whole pending buffer again on every line and
 * encode it again on write; a batch of request lines is one Buffer shared by every destination.
 * Synchronous, as node's own stdout is on Linux for files and pipes: an asynchronous write goes
 * through a libuv pool thread, and waking it and being woken back cost a replica under load more
 * than the write itself (an echo service served ~5% more requests/s with synchronous writes, the
 * request lines being batched). A line is on disk, or in the pipe, when the call returns.
 */
function byteDestination(dest: number | string): DestinationStream & ByteDestination {
  let boom: ReturnType<typeof pino.destination>;
  try {
    boom = pino.destination({
      dest,
      sync: true,
      contentMode: 'buffer',
      ...(typeof dest === 'string' ? { mkdir: true, append: true } : {}),
    });
  } catch (cause) {
    throw new BerthError(
      'INVALID_ARGUMENT',
      `Cannot open the log file ${String(dest)} for appending: ${(cause as Error).message}.`,
      { hint: 'Give a log file path in a folder you can write to.', cause },
    );
  }
  // in buffer mode sonic-boom takes Buffers (its types only know text)
  const writeBuffer = boom.write.bind(boom) as unknown as (bytes: Buffer) => boolean;
  return Object.assign(boom, {
    write: (text: string) => writeBuffer(Buffer.from(text)),
    writeBytes: (bytes: Buffer) => {
      writeBuffer(bytes);
    },
  });
}
