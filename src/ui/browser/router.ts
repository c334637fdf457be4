/** The dashboard's screens, addressed by the URL's hash (so one static page serves them all). */
export type Route =
  | { page: 'services' }
  | { page: 'service'; name: string }
  | { page: 'models'; query: URLSearchParams };

export function parseRoute(hash: string): Route {
  const [path, query] = hash.replace(/^#/, '').split('?');
  const parts = path
    .split('/')
    .filter(Boolean)
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
  if (parts[0] === 'models') return { page: 'models', query: new URLSearchParams(query ?? '') };
  if (parts[0] === 'services' && parts[1]) return { page: 'service', name: parts[1] };
  return { page: 'services' };
}

export function serviceHref(name: string): string {
  return `#/services/${encodeURIComponent(name)}`;
}

export function modelsHref(filter: { name?: string; tag?: string } = {}): string {
  const q = new URLSearchParams();
  if (filter.name) q.set('name', filter.name);
  if (filter.tag) q.set('tag', filter.tag);
  const s = q.toString();
  return s ? `#/models?${s}` : '#/models';
}
