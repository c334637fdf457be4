import { createServer } from 'node:net';
import { BerthError } from '../../../core/errors.js';

/** Resolves true when `host:port` can be bound right now. */
export function isPortFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port the OS says is free now (bind to 0, read, release). */
export function findFreePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** @throws PORT_IN_USE naming the port and what to do. */
export async function assertPortFree(port: number, host: string, owner?: string): Promise<void> {
  if (await isPortFree(port, host)) return;
  throw portInUse(port, owner);
}

export function portInUse(port: number, owner?: string): BerthError {
  const by = owner ? ` by service "${owner}"` : ' by another process';
  return new BerthError('PORT_IN_USE', `Port ${port} is already in use${by}.`, {
    hint: 'Choose another "port" in deploymentconfig.json, or 0 (or no port) to let Berth pick a free one.',
  });
}
