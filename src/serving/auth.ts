import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Checks `Authorization: Bearer <key>` against the service's keys (primary, secondary, ...).
 * Keys are compared as sha256 digests with `timingSafeEqual`, and every key is compared on
 * every call, so the time taken says nothing about how much of a key was right.
 */
export class BearerAuth {
  private readonly digests: Buffer[];

  constructor(keys: readonly string[]) {
    this.digests = keys.filter((k) => k.length > 0).map(digest);
  }

  /** False when no key is configured: every request passes. */
  get enabled(): boolean {
    return this.digests.length > 0;
  }

  /** True when the header carries one of the keys (or auth is off). */
  check(authorization: string | undefined): boolean {
    if (this.digests.length === 0) return true;
    if (authorization === undefined) return false;
    const token = bearerToken(authorization);
    if (token === undefined) return false;
    const given = digest(token);
    let ok = false;
    for (const d of this.digests) ok = timingSafeEqual(given, d) || ok;
    return ok;
  }
}

function bearerToken(header: string): string | undefined {
  const space = header.indexOf(' ');
  if (space < 0 || header.slice(0, space).toLowerCase() !== 'bearer') return undefined;
  const token = header.slice(space + 1).trim();
  return token.length > 0 ? token : undefined;
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}
