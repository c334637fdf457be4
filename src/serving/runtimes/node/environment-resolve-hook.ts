/**
 * Module resolution hook (runs in Node's loader thread, see `module.register`): a bare specifier
 * (`import x from "lodash"`) that the normal resolution cannot find is resolved again as if it
 * were imported from the environment folder, so `<environmentDir>/node_modules` is searched.
 */
import type { InitializeHook, ResolveHook } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

let fallbackParents: string[] = [];

export const initialize: InitializeHook<{ dirs: string[] }> = (data) => {
  fallbackParents = data.dirs.map((dir) => pathToFileURL(join(dir, '__berth_environment__.js')).href);
};

function isBare(specifier: string): boolean {
  return !(
    specifier.startsWith('.') ||
    specifier.startsWith('/') ||
    specifier.startsWith('node:') ||
    specifier.startsWith('file:') ||
    specifier.startsWith('data:') ||
    /^[a-z]+:\/\//i.test(specifier)
  );
}

export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  try {
    return await nextResolve(specifier, context);
  } catch (err) {
    if (!isBare(specifier) || (err as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    for (const parentURL of fallbackParents) {
      try {
        return await nextResolve(specifier, { ...context, parentURL });
      } catch {
        // try the next environment folder
      }
    }
    throw err;
  }
};
