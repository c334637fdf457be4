import { basename } from 'node:path';
import { BerthError } from '../../../core/errors.js';
import type { ScoringContext } from '../../runtime.js';

/**
 * Runs an entry script's `init(ctx)` once, bounded by `timeoutMs` (the load timeout, separate from the
 * scoring timeout). Shared by the node runtime and batch scoring.
 * @throws BerthError INIT_FAILED when init throws (logged with its stack on ctx.log) or runs past the timeout.
 */
export async function callEntryInit(
  init: (ctx: ScoringContext) => unknown,
  ctx: ScoringContext,
  file: string,
  timeoutMs: number,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new BerthError(
            'INIT_FAILED',
            `init() of "${basename(file)}" did not finish within ${timeoutMs} ms.`,
            {
              hint: 'Make init() faster, or raise initTimeoutMs (berth serve --init-timeout-ms).',
            },
          ),
        ),
      timeoutMs,
    );
  });
  try {
    await Promise.race([Promise.resolve().then(() => init(ctx)), timeout]);
  } catch (err) {
    if (err instanceof BerthError && err.code === 'INIT_FAILED') throw err;
    ctx.log.error({ err }, 'init() of the entry script failed');
    const message = err instanceof Error ? err.message : String(err);
    throw new BerthError('INIT_FAILED', `init() of "${basename(file)}" failed: ${message}`, {
      hint: 'Fix init() in the entry script; the log has the stack.',
      cause: err,
    });
  } finally {
    clearTimeout(timer);
  }
}
