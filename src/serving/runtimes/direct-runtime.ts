import type { Runtime, ScoreRequest } from '../runtime.js';

/**
 * A runtime that can answer without a promise when scoring is synchronous: `scoreDirect` returns
 * the value itself, or a promise when the work is asynchronous, and throws BerthErrors. The
 * scoring server uses it to skip a promise and a microtask per request (node entry scripts whose
 * run() is synchronous); `score` keeps the Runtime contract for everyone else.
 */
export interface DirectRuntime extends Runtime {
  scoreDirect(request: ScoreRequest): unknown;
}

export function isDirectRuntime(runtime: Runtime): runtime is DirectRuntime {
  return typeof (runtime as Partial<DirectRuntime>).scoreDirect === 'function';
}

/** True for promises and other thenables. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function'
  );
}
