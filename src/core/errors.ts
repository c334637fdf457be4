import { ERROR_CATALOGUE, type ErrorCode, isErrorCode } from './error-catalogue.js';

export interface BerthErrorOptions {
  /** What the user can do about it, printed as "Try: ..." by the CLI. */
  hint?: string;
  cause?: unknown;
  /** Extra machine-readable facts (e.g. the JSON path of a bad config key). */
  details?: Record<string, unknown>;
}

/** The one error class that leaves a layer. `code` is stable API; see docs/errors.md. */
export class BerthError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: BerthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BerthError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }

  get status(): number {
    return ERROR_CATALOGUE[this.code].status;
  }

  get exitCode(): number {
    return ERROR_CATALOGUE[this.code].exit;
  }

  toJSON(): { code: ErrorCode; message: string; hint?: string; details?: Record<string, unknown> } {
    return { code: this.code, message: this.message, hint: this.hint, details: this.details };
  }

  /** Rebuilds an error from the `{"error": {...}}` body an API answered with. */
  static fromBody(body: unknown, fallbackStatus = 500): BerthError {
    const err = (body as { error?: { code?: unknown; message?: unknown; hint?: unknown; details?: unknown } })
      ?.error;
    if (err && isErrorCode(err.code)) {
      return new BerthError(err.code, String(err.message ?? err.code), {
        hint: typeof err.hint === 'string' ? err.hint : undefined,
        details: (err.details as Record<string, unknown>) ?? undefined,
      });
    }
    return new BerthError('INTERNAL', `Unexpected answer (HTTP ${fallbackStatus}): ${JSON.stringify(body)}`);
  }
}

/** Wraps anything thrown into a BerthError, keeping BerthErrors as they are. */
export function toBerthError(err: unknown, code: ErrorCode = 'INTERNAL'): BerthError {
  if (err instanceof BerthError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new BerthError(code, message, { cause: err });
}
