import { type Command, InvalidArgumentError } from 'commander';
import { formatFields, type GlobalOptions, printResult } from '../output.js';

interface StartOptions extends GlobalOptions {
  port?: number;
  host?: string;
  foreground?: boolean;
}

/** The dashboard's login link: the control plane's page with the API token in the query (as Jupyter does). */
function dashboardUrl(url: string, token?: string): string {
  const base = `${url.replace(/\/+$/, '')}/`;
  return token ? `${base}?token=${encodeURIComponent(token)}` : base;
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError(`--port must be 0-65535, got "${value}".`);
  return n;
}

async function workspaceDir(opts: GlobalOptions): Promise<string> {
  const { BerthError } = await import('../../core/errors.js');
  if (opts.url || process.env.BERTH_URL) {
    throw new BerthError(
      'NOT_SUPPORTED',
      'berth server start/stop manage the control plane of a local workspace, not a --url.',
      {
        hint: 'Run it on the machine of the workspace: berth --workspace DIR server start',
      },
    );
  }
  const { resolve } = await import('node:path');
  const { DEFAULT_WORKSPACE_DIR } = await import('../../sdk/workspace.js');
  return resolve(opts.workspace || process.env.BERTH_WORKSPACE || DEFAULT_WORKSPACE_DIR);
}

/**
 * `berth server start [--port N] [--host H] [--foreground] | status | stop [--all]`: the workspace's
 * control plane (desired state, reconciliation, management API). `start` runs it in the background
 * unless `--foreground`; the CLI also starts it by itself when a service command needs it.
 */
export function register(program: Command): void {
  const server = program
    .command('server')
    .description("The workspace's control plane: reconciles services, serves the management API.");

  server
    .command('start')
    .description('Start the control plane (in the background unless --foreground); prints its URL and token.')
    .option('--port <n>', 'API port (default: the last one used, else a free one)', parsePort)
    .option('--host <host>', 'interface to listen on (default 127.0.0.1)')
    .option('--foreground', 'run in this process until SIGTERM/SIGINT')
    .action(async (_o, cmd: Command) => {
      const opts = cmd.optsWithGlobals<StartOptions>();
      const dir = await workspaceDir(opts);
      if (opts.foreground) {
        await runForeground(dir, opts);
        return;
      }
      const { ensureControlPlane, findControlPlane } = await import('../../deploy/control-plane-launcher.js');
      const already = await findControlPlane(dir);
      const info = already ?? (await ensureControlPlane(dir, { port: opts.port, host: opts.host }));
      const dashboard = dashboardUrl(info.url, info.token);
      const body = {
        running: true,
        alreadyRunning: Boolean(already),
        workspace: dir,
        ...info,
        dashboardUrl: dashboard,
      };
      printResult(
        opts,
        body,
        () =>
          `${already ? 'Control plane already running' : 'Control plane started'}\n${formatFields({
            URL: info.url,
            Pid: info.pid,
            Token: info.token,
            Dashboard: dashboard,
            Workspace: dir,
          })}`,
      );
    });

  server
    .command('status')
    .description('Show whether the control plane runs, its URL, pid and token.')
    .action(async (_o, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const url = opts.url || process.env.BERTH_URL;
      if (url) {
        const token = opts.token || process.env.BERTH_TOKEN || undefined;
        const res = await fetch(`${url.replace(/\/+$/, '')}/api/health`, {
          headers: token ? { authorization: `Bearer ${token}` } : {},
        }).catch(() => undefined);
        const body = res?.ok ? ((await res.json()) as Record<string, unknown>) : undefined;
        const dashboard = dashboardUrl(url, token);
        const status = { running: Boolean(body), url, ...(body ?? {}), dashboardUrl: dashboard };
        printResult(opts, status, () =>
          body
            ? `Control plane running at ${url} (pid ${body.pid})\nDashboard: ${dashboard}`
            : `No control plane answers at ${url}`,
        );
        return;
      }
      const dir = await workspaceDir(opts);
      const { findControlPlane } = await import('../../deploy/control-plane-launcher.js');
      const info = await findControlPlane(dir);
      if (!info) {
        printResult(
          opts,
          { running: false, workspace: dir },
          () => `Control plane not running (workspace ${dir}).`,
        );
        return;
      }
      const dashboard = dashboardUrl(info.url, info.token);
      const status = { running: true, workspace: dir, ...info, dashboardUrl: dashboard };
      printResult(opts, status, () =>
        formatFields({
          State: 'running',
          URL: info.url,
          Pid: info.pid,
          Token: info.token,
          Dashboard: dashboard,
          Started: info.startedAt,
          Workspace: dir,
        }),
      );
    });

  server
    .command('stop')
    .description('Stop the control plane (services keep serving); with --all, stop every local service too.')
    .option('--all', "also stop every service's replica processes (they start again with the control plane)")
    .action(async (_o, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions & { all?: boolean }>();
      const dir = await workspaceDir(opts);
      const { stopControlPlane } = await import('../../deploy/control-plane-launcher.js');
      const pid = await stopControlPlane(dir);
      const stoppedServices: string[] = opts.all ? await stopLocalServices(dir) : [];
      const body = { stopped: pid !== undefined, pid: pid ?? null, services: stoppedServices };
      printResult(opts, body, () => {
        const lines = [
          pid ? `Stopped the control plane (pid ${pid}).` : 'The control plane was not running.',
        ];
        if (opts.all)
          lines.push(
            stoppedServices.length
              ? `Stopped services: ${stoppedServices.join(', ')}.`
              : 'No service was running.',
          );
        return lines.join('\n');
      });
    });
}

/** Stops the replica processes of every local service; their desired state stays (a later start restarts them). */
async function stopLocalServices(dir: string): Promise<string[]> {
  const { existsSync } = await import('node:fs');
  const { join } = await import('node:path');
  if (!existsSync(join(dir, 'berth.db'))) return [];
  const { openWorkspaceStores } = await import('../../store/open-store.js');
  const { SqliteServiceStore } = await import('../../store/sqlite/sqlite-service-store.js');
  const { LocalTarget } = await import('../../deploy/targets/local/local-target.js');
  const stores = openWorkspaceStores(dir);
  try {
    const target = new LocalTarget({ workspaceDir: dir });
    const stopped: string[] = [];
    await Promise.all(
      new SqliteServiceStore(stores.db).list().map(async (record) => {
        if (record.computeType !== 'local' || !record.status.process) return;
        const observed = await target.observe(record.name, record.status.process);
        await target.stop(record.name, record.status.process);
        if (observed.running) stopped.push(record.name);
      }),
    );
    return stopped.sort();
  } finally {
    stores.close();
  }
}

async function runForeground(dir: string, opts: StartOptions): Promise<void> {
  const { createLogger } = await import('../../core/logger.js');
  const { runControlPlane } = await import('../../api/control-plane-server.js');
  const log = createLogger({ name: 'control-plane', stderr: false });
  const running = await runControlPlane({
    workspaceDir: dir,
    host: opts.host,
    port: opts.port,
    log,
    token: opts.token || undefined,
    onWorkspaceRemoved: () => process.exit(0),
  });
  process.stdout.write(
    `Control plane listening on ${running.info.url} (workspace ${dir})\nDashboard: ${dashboardUrl(running.info.url, running.info.token)}\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      void running.close().then(resolve, resolve);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  process.exit(0);
}
