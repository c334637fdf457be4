import { EmbeddedWorkspaceClient } from './embedded/embedded-workspace-client.js';
import { RemoteWorkspaceClient } from './remote/remote-workspace-client.js';
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
   * Connects to the management API of a Berth server (`berth server start`): `url` and `token`
   * are in that workspace's `control-plane.json` (`berth server status` prints them).
   * @throws INVALID_ARGUMENT for a URL that is not http(s); calls reject with UNAUTHORIZED for a wrong token.
   */
  static connect(url: string, token?: string): Workspace {
    return new Workspace(new RemoteWorkspaceClient(url, token));
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
