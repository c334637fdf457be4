import { register } from 'node:module';
import { basename, dirname, resolve } from 'node:path';

const registered = new Set<string>();

/**
 * Puts an environment's `node_modules` on the ES module resolution path of this process:
 * bare imports the entry script cannot resolve from its own folder are looked up in
 * `<environmentDir>/node_modules` (a resolve hook registered with `module.register`).
 * `environmentDir` may be the folder holding `node_modules` or the `node_modules` folder itself.
 * Applies to `import` (static and dynamic); `require` from CommonJS code keeps Node's own rules.
 */
export function registerEnvironment(environmentDir: string): void {
  let dir = resolve(environmentDir);
  if (basename(dir) === 'node_modules') dir = dirname(dir);
  if (registered.has(dir)) return;
  registered.add(dir);
  register(new URL('./environment-resolve-hook.js', import.meta.url), { data: { dirs: [dir] } });
}
