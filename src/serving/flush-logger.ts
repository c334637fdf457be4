import { type Logger, pino } from 'pino';

/**
 * Writes out what a pino logger still buffers (its multistream of async destinations has no async
 * flush), so the lines are not lost when the process exits right after. Never throws.
 */
export function flushLogger(log: Logger): void {
  const stream = (log as unknown as Record<symbol, { flushSync?: () => void }>)[pino.symbols.streamSym];
  try {
    stream?.flushSync?.();
  } catch {
    // a destination that is not open yet has nothing to flush
  }
}
