import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import { BerthError } from '../core/errors.js';
import type { ServedModel } from '../serving/serve-spec.js';

/**
 * What batch scoring needs of a workspace: the SDK's `Workspace` satisfies it. An embedded
 * workspace (a folder) has its models materialized in place; a remote one downloads them.
 */
export interface BatchWorkspace {
  readonly client: {
    readonly kind: 'embedded' | 'remote';
    /** The workspace folder (embedded) or the server URL. */
    readonly location: string;
    downloadModel(ref: string, dir: string): Promise<{ name: string; version: number }>;
  };
}

/** Models resolved to folders, and what to clean up after the run. */
export interface ResolvedModels {
  models: ServedModel[];
  cleanup(): void;
}

/**
 * Resolves `refs` in the workspace and `dirs` (unregistered files or folders, named after them,
 * version 1) to the folders a runtime reads.
 * @throws INVALID_ARGUMENT when refs are given without a workspace, MODEL_NOT_FOUND,
 *   INVALID_MODEL_REF, PATH_NOT_FOUND, ARTIFACT_CORRUPTED.
 */
export async function resolveBatchModels(
  ws: BatchWorkspace | undefined,
  refs: readonly string[],
  dirs: readonly string[],
): Promise<ResolvedModels> {
  const models: ServedModel[] = [];
  const temps: string[] = [];
  const cleanup = (): void => {
    for (const t of temps) rmSync(t, { recursive: true, force: true });
  };
  try {
    if (refs.length > 0) {
      if (!ws)
        throw new BerthError('INVALID_ARGUMENT', 'Model references need a workspace.', {
          hint: 'Pass a workspace, or use model folders (--model-dir).',
        });
      if (ws.client.kind === 'embedded') {
        const { openWorkspaceStores } = await import('../store/open-store.js');
        const { ModelRegistry } = await import('../registry/model-registry.js');
        const stores = openWorkspaceStores(ws.client.location);
        try {
          const registry = new ModelRegistry(stores);
          for (const ref of refs) {
            const version = registry.get(ref);
            models.push({
              name: version.name,
              version: version.version,
              path: await registry.materialize(ref),
            });
          }
        } finally {
          stores.close();
        }
      } else {
        for (const ref of refs) {
          const dir = mkdtempSync(join(tmpdir(), 'berth-batch-model-'));
          temps.push(dir);
          const version = await ws.client.downloadModel(ref, dir);
          models.push({ name: version.name, version: version.version, path: dir });
        }
      }
    }
    for (const dir of dirs) {
      const path = resolve(dir);
      const stat = statSync(path, { throwIfNoEntry: false });
      if (!stat)
        throw new BerthError('PATH_NOT_FOUND', `Model path "${dir}" does not exist.`, {
          hint: 'Give a model file or folder with --model-dir.',
        });
      const name = stat.isDirectory() ? basename(path) : basename(path, extname(path));
      models.push({ name, version: 1, path });
    }
  } catch (err) {
    cleanup();
    throw err;
  }
  return { models, cleanup };
}
