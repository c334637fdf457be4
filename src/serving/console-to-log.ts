import { format } from 'node:util';
import type { Logger } from '../core/logger.js';

type Level = 'info' | 'warn' | 'error';

/**
 * Sends this process' `console.log/info/debug` (info), `console.warn` (warn) and `console.error`
 * (error) through `log` as pino lines with `source: "entry-script"`, so an entry script's prints
 * land in the service log (`berth service logs`) and not only in the replica's stdout. One
 * `util.format` per call, nothing when the level is off.
 */
export function routeConsoleToLog(log: Logger): void {
  const entry = log.child({ source: 'entry-script' });
  const at =
    (level: Level) =>
    (...args: unknown[]): void => {
      if (entry.isLevelEnabled(level)) entry[level](format(...args));
    };
  console.log = at('info');
  console.info = at('info');
  console.debug = at('info');
  console.warn = at('warn');
  console.error = at('error');
}
