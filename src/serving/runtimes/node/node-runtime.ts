import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { BerthError } from '../../../core/errors.js';
import type { RuntimeFactoryOptions, ScoreRequest, ScoringContext } from '../../runtime.js';
import type { DirectRuntime } from '../direct-runtime.js';
import { resolveModelPath } from '../model-path.js';
import { callEntryInit } from './call-entry-init.js';
import { importEntryScript } from './import-entry-script.js';
import { registerEnvironment } from './register-environment.js';

/** What an entry script module may export. */
interface EntryScript {
  init?: (ctx: ScoringContext) => unknown;
  run: (input: unknown, ctx: ScoringContext) => unknown;
  schema?: { input?: unknown; output?: unknown };
}

/** Creates the runtime that runs a JavaScript/TypeScript entry script (`init(ctx)`, `run(input, ctx)`). */
export function createNodeRuntime(options: RuntimeFactoryOptions): DirectRuntime {
  return new NodeRuntime(options);
}

/**
 * Loads the entry script as an ES module (`.js`, `.mjs`, `.cjs`; `.ts` through tsx, no build
 * step), calls `init(ctx)` once within `initTimeoutMs`, then `run(input, ctx)` per request
 * (sync or async). The schema is the inference config's `schema`, else the script's
 * `export const schema`.
 */
class NodeRuntime implements DirectRuntime {
  readonly name = 'node' as const;
  private entry!: EntryScript;
  private runFn!: EntryScript['run'];
  private readonly ctx: ScoringContext;

  constructor(private readonly options: RuntimeFactoryOptions) {
    const models = options.models;
    const log = options.log.child({
      entryScript: options.config.entryScript ? basename(options.config.entryScript) : undefined,
    });
    this.ctx = {
      modelPath: (name: string, version?: number) => resolveModelPath(models, name, version),
      log,
      models,
    };
  }

  async load(): Promise<void> {
    const file = this.options.config.entryScript;
    if (!file || !existsSync(file)) {
      throw new BerthError('ENTRY_SCRIPT_NOT_FOUND', `Entry script "${file ?? '(none)'}" does not exist.`, {
        hint: 'Check "entryScript" and "sourceDirectory" in inferenceconfig.json (paths are relative to the config file).',
      });
    }
    if (this.options.environmentDir) registerEnvironment(this.options.environmentDir);
    const mod = await importEntryScript(file);
    const entry = pickExports(mod);
    if (!entry) {
      throw new BerthError(
        'ENTRY_SCRIPT_INVALID',
        `Entry script "${file}" exports no run(input, ctx) function.`,
        {
          hint: 'Add: export async function run(input, ctx) { ... } (and optionally export async function init(ctx)).',
        },
      );
    }
    this.entry = entry;
    // bound, so a CommonJS object whose methods use `this` keeps working
    this.runFn = entry.run.bind(entry);
    if (typeof entry.init === 'function')
      await callEntryInit(entry.init.bind(entry), this.ctx, file, this.options.limits.initTimeoutMs);
  }

  score(request: ScoreRequest): Promise<unknown> {
    try {
      return Promise.resolve(this.scoreDirect(request));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * `run()`'s own answer: the value itself when run is synchronous (no promise, no extra tick),
   * else a promise. Throws (or rejects with) BAD_REQUEST / SCORING_FAILED.
   */
  scoreDirect(request: ScoreRequest): unknown {
    let out: unknown;
    try {
      out = this.runFn(request.body, this.ctx);
    } catch (err) {
      throw runError(err);
    }
    if (out !== null && typeof out === 'object' && typeof (out as Promise<unknown>).then === 'function') {
      return (out as Promise<unknown>).then(undefined, (err: unknown) => {
        throw runError(err);
      });
    }
    return out;
  }

  schema(): { input?: object; output?: object } | undefined {
    const schema = this.options.config.schema ?? this.entry?.schema;
    if (!schema || typeof schema !== 'object') return undefined;
    return schema as { input?: object; output?: object };
  }

  async close(): Promise<void> {}
}

function pickExports(mod: Record<string, unknown>): EntryScript | undefined {
  // CommonJS (`module.exports = {init, run}`): the object itself, so its methods keep their `this`
  const def = mod.default as Record<string, unknown> | undefined;
  if (def && typeof def === 'object' && typeof def.run === 'function') return def as unknown as EntryScript;
  if (typeof mod.run === 'function') return mod as unknown as EntryScript;
  return undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * A run() failure as a BerthError: BerthErrors pass through; an error with `status` or
 * `statusCode` 400 (or code "BAD_REQUEST") is the client's fault (400); anything else is
 * SCORING_FAILED (500) with the original error as cause (its stack goes to the log).
 */
function runError(err: unknown): BerthError {
  if (err instanceof BerthError) return err;
  const e = err as { status?: unknown; statusCode?: unknown; code?: unknown } | null;
  const status = e?.status ?? e?.statusCode;
  if (status === 400 || e?.code === 'BAD_REQUEST')
    return new BerthError('BAD_REQUEST', messageOf(err), { cause: err });
  return new BerthError('SCORING_FAILED', `run() failed: ${messageOf(err)}`, { cause: err });
}
