import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { BerthError } from '../core/errors.js';
import type { RuntimeFactoryOptions, ScoringContext } from '../serving/runtime.js';
import { resolveModelPath } from '../serving/runtimes/model-path.js';
import { callEntryInit } from '../serving/runtimes/node/call-entry-init.js';
import { importEntryScript } from '../serving/runtimes/node/import-entry-script.js';
import type { BatchResult, BatchScorer } from './batch-scorer.js';
import { type DecodedBatch, itemValue } from './item-decoder.js';
import type { ItemError } from './output-line.js';

type RunBatchFn = (items: unknown[], ctx: ScoringContext) => unknown;
type RunFn = (input: unknown, ctx: ScoringContext) => unknown;

interface BatchEntryScript {
  init?: (ctx: ScoringContext) => unknown;
  run?: RunFn;
  runBatch: RunBatchFn;
}

/**
 * Loads a node entry script that exports `runBatch(items, ctx)` and returns its scorer, or
 * undefined when the script has no `runBatch` (the caller then uses the node runtime's `run`).
 * The source is only imported here when it mentions `runBatch`, so a script is evaluated once.
 * @throws ENTRY_SCRIPT_INVALID when it cannot be imported, INIT_FAILED when `init(ctx)` fails.
 */
export async function loadRunBatchScorer(
  options: RuntimeFactoryOptions,
): Promise<RunBatchScorer | undefined> {
  const file = options.config.entryScript;
  if (!file) return undefined;
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    return undefined; // the node runtime reports ENTRY_SCRIPT_NOT_FOUND
  }
  if (!source.includes('runBatch')) return undefined;
  const mod = await importEntryScript(file);
  const entry = pickRunBatch(mod);
  if (!entry) return undefined;
  const ctx: ScoringContext = {
    modelPath: (name: string, version?: number) => resolveModelPath(options.models, name, version),
    log: options.log.child({ entryScript: basename(file) }),
    models: options.models,
  };
  if (typeof entry.init === 'function')
    await callEntryInit(entry.init, ctx, file, options.limits.initTimeoutMs);
  return new RunBatchScorer(entry, ctx);
}

/**
 * Scores a mini-batch with one `runBatch(items, ctx)` call, which returns one result per item in
 * order (an `Error` in the array fails that item). When `runBatch` throws, the items are scored one
 * by one with `run` (when exported) so that only the culprits fail.
 */
export class RunBatchScorer implements BatchScorer {
  readonly mode = 'runBatch' as const;
  readonly flatRows = false;

  constructor(
    private readonly entry: BatchEntryScript,
    private readonly ctx: ScoringContext,
  ) {}

  async score(batch: DecodedBatch): Promise<BatchResult> {
    const { items } = batch;
    const values = items.map((i) => itemValue(batch, i));
    let results: unknown;
    try {
      results = await this.entry.runBatch(values, this.ctx);
    } catch (err) {
      if (typeof this.entry.run === 'function' && items.length > 1) return this.scoreOneByOne(values);
      const error = failure('runBatch', err);
      return { predictions: new Array(items.length), errors: items.map(() => error) };
    }
    if (!Array.isArray(results) || results.length !== items.length) {
      const got = Array.isArray(results) ? `${results.length} results` : typeof results;
      const error: ItemError = {
        code: 'SCORING_FAILED',
        message: `runBatch() returned ${got} for ${items.length} items; return an array with one result per item, in order.`,
      };
      return { predictions: new Array(items.length), errors: items.map(() => error) };
    }
    const errors = results.map((r) => (r instanceof Error ? failure('runBatch', r) : undefined));
    return { predictions: results, errors: errors.some((e) => e !== undefined) ? errors : undefined };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private async scoreOneByOne(values: unknown[]): Promise<BatchResult> {
    const run = this.entry.run as RunFn;
    const out: BatchResult = { predictions: new Array(values.length) };
    for (let i = 0; i < values.length; i++) {
      try {
        out.predictions[i] = await run(values[i], this.ctx);
      } catch (err) {
        out.errors ??= new Array(values.length);
        out.errors[i] = failure('run', err);
      }
    }
    return out;
  }
}

function failure(fn: string, err: unknown): ItemError {
  if (err instanceof BerthError) return { code: err.code, message: err.message };
  const e = err as { status?: unknown; statusCode?: unknown; code?: unknown } | null;
  const message = err instanceof Error ? err.message : String(err);
  if (e?.status === 400 || e?.statusCode === 400 || e?.code === 'BAD_REQUEST')
    return { code: 'BAD_REQUEST', message };
  return { code: 'SCORING_FAILED', message: `${fn}() failed: ${message}` };
}

function pickRunBatch(mod: Record<string, unknown>): BatchEntryScript | undefined {
  if (typeof mod.runBatch === 'function') return mod as unknown as BatchEntryScript;
  const def = mod.default as Record<string, unknown> | undefined;
  if (def && typeof def === 'object' && typeof def.runBatch === 'function')
    return def as unknown as BatchEntryScript;
  return undefined;
}
