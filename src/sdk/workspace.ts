import { BerthError } from '../core/errors.js';
import { EmbeddedWorkspaceClient } from './embedded/embedded-workspace-client.js';
import type { WorkspaceClient } from './workspace-client.js';

/** The folder `Workspace.open()` uses when given none (relative to the current folder). */
export const DEFAULT_WORKSPACE_DIR = '.berth';

/**
 * A workspace: one model registry and its services, either a folder opened in this process
 * (`Workspace.open`) or a Berth server (`Workspace.connect`). Pass it to `Model` (and `Webservice`).
 *
 * @example
 * ```ts
 * import { Model, Workspace } from 'berth';
 * const ws = Workspace.open('./.berth');
 * const model = await Model.register(ws, { name: 'iris', path: 'models/iris.onnx', tags: { stage: 'dev' } });
 * console.log(model.id); // iris:1
 * await ws.close();
 * ```
 */
export class Workspace {
  /** The transport every SDK call goes through. */
  readonly client: WorkspaceClient;

  constructor(client: WorkspaceClient) {
    this.client = client;
  }

  /**
   * Opens (creating on first use) the workspace folder `dir`, default `./.berth`.
   * @throws STORE_ERROR when it cannot be created or opened.
   */
  static open(dir: string = DEFAULT_WORKSPACE_DIR): Workspace {
    return new Workspace(new EmbeddedWorkspaceClient(dir));
  }

  /**
   * Connects to the management API of a Berth server (`berth server start`).
   * @throws NOT_SUPPORTED until the remote client is available.
   */
  static connect(url: string, _token?: string): Workspace {
    // The remote client (src/sdk/remote/) plugs in here: return new Workspace(new RemoteWorkspaceClient(url, token)).
    throw new BerthError(
      'NOT_SUPPORTED',
      `Connecting to a remote workspace (${url}) is not available in this build.`,
      {
        hint: 'Use a local workspace: --workspace DIR (or Workspace.open(dir)).',
      },
    );
  }

  /** The absolute workspace folder, or the server URL. */
  get location(): string {
    return this.client.location;
  }

  /** Releases the workspace; later calls fail. */
  close(): Promise<void> {
    return this.client.close();
  }
}
