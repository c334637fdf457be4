import { extname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BerthError } from '../../../core/errors.js';

const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.tsx']);

/**
 * Imports a node entry script (`.js`, `.mjs`, `.cjs`, or TypeScript through tsx with no build step).
 * Used by the node runtime and by batch scoring, so both load scripts the same way.
 * @throws BerthError ENTRY_SCRIPT_INVALID when the module cannot be loaded (syntax error, failing import).
 */
export async function importEntryScript(file: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(file).href;
  try {
    if (TS_EXTENSIONS.has(extname(file).toLowerCase())) {
      const { tsImport } = await import('tsx/esm/api');
      return (await tsImport(url, import.meta.url)) as Record<string, unknown>;
    }
    return (await import(url)) as Record<string, unknown>;
  } catch (cause) {
    throw new BerthError(
      'ENTRY_SCRIPT_INVALID',
      `Entry script "${file}" cannot be loaded: ${cause instanceof Error ? cause.message : String(cause)}`,
      {
        hint: 'Fix the syntax or the failing import; the entry script must be an ES module (or CommonJS) exporting run() (batch scoring also takes runBatch()).',
        cause,
      },
    );
  }
}
