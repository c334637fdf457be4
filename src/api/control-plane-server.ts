import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { BerthError } from '../core/errors.js';
import { ControlPlane } from '../deploy/control-plane.js';
import {
  acquireControlPlaneLock,
  type ControlPlaneInfo,
  readControlPlaneInfo,
  releaseControlPlaneLock,
  writeControlPlaneInfo,
} from '../deploy/control-plane-info.js';
import { LocalTarget } from '../deploy/targets/local/local-target.js';
import { isPortFree } from '../deploy/targets/local/port-availability.js';
import { ModelRegistry } from '../registry/model-registry.js';
import { openWorkspaceStores } from '../store/open-store.js';
import { SqliteServiceStore } from '../store/sqlite/sqlite-service-store.js';
import { createApiServer } from './create-api-server.js';

export interface RunControlPlaneOptions {
  workspaceDir: string;
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (default: the one used last time if free, else any free one). */
  port?: number;
  /** API token (default: the one kept in control-plane.json, else a new one). */
  token?: string;
  reconcileIntervalMs?: number;
  log: Logger;
  /**
   * Called after the workspace folder disappeared under the running control plane (a removed
   * temp folder): its services' replicas are stopped and the control plane closed first.
   */
  onWorkspaceRemoved?: () => void;
}

export interface RunningControlPlane {
  info: ControlPlaneInfo;
  app: FastifyInstance;
  controlPlane: ControlPlane;
  /** Stops reconciling and serving (services keep running), marks control-plane.json stopped. */
  close(): Promise<void>;
}

const VERSION: string = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
).version;

/** How often the control plane checks that its workspace folder still exists (ms). */
const WORKSPACE_CHECK_MS = 2_000;

/** How long the first reconcile pass (adopting running services) may hold back the API (ms). */
const ADOPT_WAIT_MS = 3_000;

/**
 * Runs the workspace's control plane in this process: one per workspace (a lock file), the store,
 * the registry (with the model usage guard), the local target, a first reconcile pass (adopt live
 * replica processes, restart dead ones), then the management API; writes `<ws>/control-plane.json`.
 * @throws CONTROL_PLANE_UNAVAILABLE when another control plane runs for the workspace; PORT_IN_USE.
 */
export async function runControlPlane(options: RunControlPlaneOptions): Promise<RunningControlPlane> {
  const workspaceDir = resolve(options.workspaceDir);
  mkdirSync(workspaceDir, { recursive: true });
  if (!acquireControlPlaneLock(workspaceDir)) {
    const other = readControlPlaneInfo(workspaceDir);
    throw new BerthError(
      'CONTROL_PLANE_UNAVAILABLE',
      `A control plane already runs for ${workspaceDir}${other?.url ? ` at ${other.url}` : ''}.`,
      {
        hint: 'Use it (berth server status), or stop it first: berth server stop',
      },
    );
  }
  const stores = openWorkspaceStores(workspaceDir);
  try {
    const previous = readControlPlaneInfo(workspaceDir);
    const host = options.host ?? '127.0.0.1';
    const token = options.token ?? previous?.token ?? randomBytes(24).toString('base64url');
    let port = options.port ?? 0;
    if (
      options.port === undefined &&
      previous?.port &&
      previous.host === host &&
      (await isPortFree(previous.port, host))
    ) {
      port = previous.port;
    }
    const registry = new ModelRegistry(stores);
    const controlPlane = new ControlPlane({
      workspaceDir,
      store: new SqliteServiceStore(stores.db),
      registry,
      target: new LocalTarget({ workspaceDir }),
      log: options.log,
      reconcileIntervalMs: options.reconcileIntervalMs,
      workspaceToken: token,
    });
    // Listen first (a taken port fails before anything is adopted), answer health only after the
    // first reconcile pass (clients wait for it, so what they read next is current).
    let adopted = false;
    const app = await createApiServer({
      controlPlane,
      registry,
      temp: stores.temp,
      token,
      version: VERSION,
      workspaceDir,
      ready: () => adopted,
    });
    try {
      await app.listen({ host, port });
    } catch (err) {
      await app.close();
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new BerthError(
          'PORT_IN_USE',
          `Port ${port} is already in use; the control plane cannot listen there.`,
          {
            hint: 'Choose another port with --port, or leave it out to pick a free one.',
          },
        );
      }
      throw err;
    }
    const adopting = controlPlane.start();
    await Promise.race([adopting, new Promise((r) => setTimeout(r, ADOPT_WAIT_MS).unref())]);
    adopted = true;
    const address = app.server.address();
    const actualPort = typeof address === 'object' && address ? address.port : port;
    const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
    const info: ControlPlaneInfo = {
      url: `http://${urlHost}:${actualPort}`,
      pid: process.pid,
      token,
      host,
      port: actualPort,
      startedAt: new Date().toISOString(),
    };
    writeControlPlaneInfo(workspaceDir, info);
    options.log.info({ url: info.url, workspace: workspaceDir }, 'control plane listening');
    let closed = false;
    const watch = setInterval(() => {
      if (existsSync(join(workspaceDir, 'berth.db'))) return;
      clearInterval(watch);
      options.log.warn(
        { workspace: workspaceDir },
        'the workspace folder was removed: stopping its services and the control plane',
      );
      void controlPlane
        .stopAllReplicas()
        .then(() => running.close())
        .finally(() => options.onWorkspaceRemoved?.());
    }, WORKSPACE_CHECK_MS);
    watch.unref();
    const running: RunningControlPlane = {
      info,
      app,
      controlPlane,
      close: async () => {
        if (closed) return;
        closed = true;
        clearInterval(watch);
        await controlPlane.stop();
        await app.close();
        const current = readControlPlaneInfo(workspaceDir);
        if (current?.pid === process.pid) writeControlPlaneInfo(workspaceDir, { ...current, pid: null });
        stores.close();
        releaseControlPlaneLock(workspaceDir);
      },
    };
    return running;
  } catch (err) {
    stores.close();
    releaseControlPlaneLock(workspaceDir);
    throw err;
  }
}
