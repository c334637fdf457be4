import { fileURLToPath } from 'node:url';

/** How to run this installation's `berth` CLI as a child process. */
export interface BerthCommand {
  command: string;
  args: string[];
}

/** `node <root>/bin/berth.js` of this installation (works from dist/ and, under tsx, from src/). */
export function berthCommand(): BerthCommand {
  return { command: process.execPath, args: [fileURLToPath(new URL('../../bin/berth.js', import.meta.url))] };
}
