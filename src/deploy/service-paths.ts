import { join } from 'node:path';

/** Where a service's files live in the workspace: `<workspace>/services/<name>/`. */
export interface ServicePaths {
  dir: string;
  /** The ServeSpec JSON `berth serve --spec` reads (rewritten, then SIGHUP, on update). */
  specFile: string;
  /** The ServeState JSON the replica process writes. */
  stateFile: string;
  /** pino JSON lines of the replicas and of the control plane's events for this service. */
  logFile: string;
  /** stdout/stderr of the replica process (prints of entry scripts, crashes before logging starts). */
  consoleFile: string;
  /** Data collection: scored inputs and outputs as JSON lines, per day. */
  dataDir: string;
}

export function servicePaths(workspaceDir: string, name: string): ServicePaths {
  const dir = join(workspaceDir, 'services', name);
  return {
    dir,
    specFile: join(dir, 'spec.json'),
    stateFile: join(dir, 'state.json'),
    logFile: join(dir, 'service.log'),
    consoleFile: join(dir, 'console.log'),
    dataDir: join(dir, 'data'),
  };
}
