import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { DASHBOARD_ICON_SVG, dashboardHtml, missingAssetsHtml } from './dashboard-page.js';
import { DASHBOARD_CSS } from './dashboard-styles.js';

/** One file the dashboard serves, kept in memory with its gzip form. */
export interface DashboardAsset {
  contentType: string;
  body: Buffer;
  gzip: Buffer;
  etag: string;
}

export interface DashboardAssets {
  /** URL path (`/`, `/ui/app.js`, ...) → asset. */
  files: Map<string, DashboardAsset>;
  /** Why the browser modules were not found (then `/` explains it), or null. */
  missing: string | null;
}

/**
 * Where the compiled browser modules are: next to this file when it runs from `dist/ui/`
 * (also in an installed package), else `dist/ui/browser` of the source tree (under tsx).
 */
function findBrowserDir(): string | undefined {
  const candidates = [
    new URL('./browser/', import.meta.url),
    new URL('../../dist/ui/browser/', import.meta.url),
  ];
  return candidates.map((u) => fileURLToPath(u)).find((dir) => existsSync(join(dir, 'app.js')));
}

/** A module that held only types compiles to `export {};` (plus comments): nothing imports it at run time. */
const TYPE_ONLY = /^(?:\s|\/\*[\s\S]*?\*\/|\/\/[^\n]*)*export \{\};\s*$/;

function asset(contentType: string, content: string | Buffer): DashboardAsset {
  const body = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  return { contentType, body, gzip: gzipSync(body, { level: 9 }), etag };
}

/** Reads every file of the dashboard once (a few tens of kB). */
export function loadDashboardAssets(): DashboardAssets {
  const files = new Map<string, DashboardAsset>();
  files.set('/ui/dashboard.css', asset('text/css; charset=utf-8', DASHBOARD_CSS));
  files.set('/ui/icon.svg', asset('image/svg+xml', DASHBOARD_ICON_SVG));
  const dir = findBrowserDir();
  if (!dir) {
    const missing = 'Its browser modules (dist/ui/browser/*.js) were not found.';
    files.set('/', asset('text/html; charset=utf-8', missingAssetsHtml(missing)));
    return { files, missing };
  }
  const modules = readdirSync(dir)
    .filter((f) => f.endsWith('.js'))
    .sort();
  const preload: string[] = [];
  for (const m of modules) {
    const code = readFileSync(join(dir, m));
    files.set(`/ui/${m}`, asset('text/javascript; charset=utf-8', code));
    if (m !== 'app.js' && !TYPE_ONLY.test(code.toString('utf8'))) preload.push(m);
  }
  files.set('/', asset('text/html; charset=utf-8', dashboardHtml(preload)));
  return { files, missing: null };
}
