import type { Workspace } from '../sdk/workspace.js';
import type { GlobalOptions } from './output.js';

/**
 * The workspace a CLI command works on: `--url` (or BERTH_URL) connects to a server with `--token`
 * (or BERTH_TOKEN); otherwise the folder `--workspace` > BERTH_WORKSPACE > `./.berth`, created on
 * first use. Loads the SDK lazily so commands that do not need it stay fast.
 */
export async function openWorkspace(opts: GlobalOptions): Promise<Workspace> {
  const { DEFAULT_WORKSPACE_DIR, Workspace } = await import('../sdk/index.js');
  const url = opts.url || process.env.BERTH_URL;
  if (url) return Workspace.connect(url, opts.token || process.env.BERTH_TOKEN || undefined);
  return Workspace.open(opts.workspace || process.env.BERTH_WORKSPACE || DEFAULT_WORKSPACE_DIR);
}

/** Opens the workspace, runs `fn`, and closes it whatever happens. */
export async function withWorkspace<T>(opts: GlobalOptions, fn: (ws: Workspace) => Promise<T>): Promise<T> {
  const ws = await openWorkspace(opts);
  try {
    return await fn(ws);
  } finally {
    await ws.close();
  }
}
