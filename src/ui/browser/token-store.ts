const KEY = 'berth.token';

/**
 * Moves a `?token=` of the login link into sessionStorage and removes it from the address bar
 * (and so from the history), before anything else runs.
 * @returns true when the URL carried a token.
 */
export function takeTokenFromUrl(): boolean {
  const url = new URL(window.location.href);
  const token = url.searchParams.get('token');
  if (token === null) return false;
  url.searchParams.delete('token');
  if (token) sessionStorage.setItem(KEY, token);
  history.replaceState(history.state, '', url.pathname + url.search + url.hash);
  return token.length > 0;
}

export function readToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function saveToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function clearToken(): void {
  sessionStorage.removeItem(KEY);
}
