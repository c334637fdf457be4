import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { BerthError } from '../../core/errors.js';
import { MIGRATIONS, type Migration } from './migrations.js';

/** How long a writer waits for another process's transaction before giving up (ms). */
export const BUSY_TIMEOUT_MS = 30_000; // 30 s

type DatabaseConstructor = new (
  file: string,
  options?: { timeout?: number; nativeBinding?: string },
) => Database;

let driverCache: { Driver: DatabaseConstructor; nativeBinding?: string } | undefined;

/**
 * better-sqlite3 is a native addon: load it on first use, not when the module graph is imported.
 * Naming the addon file directly skips the `bindings` package's search (a few ms per CLI call).
 */
function loadDriver(): { Driver: DatabaseConstructor; nativeBinding?: string } {
  if (!driverCache) {
    const require = createRequire(import.meta.url);
    const main = require.resolve('better-sqlite3');
    const addon = join(dirname(main), '..', 'build', 'Release', 'better_sqlite3.node');
    driverCache = {
      Driver: require('better-sqlite3') as DatabaseConstructor,
      nativeBinding: existsSync(addon) ? addon : undefined,
    };
  }
  return driverCache;
}

/**
 * Opens (creating if needed) a workspace database: WAL journal so readers never block the writer,
 * a busy timeout so concurrent processes wait for each other instead of failing, foreign keys on,
 * and every migration of `migrations` applied.
 * @throws STORE_ERROR when the file cannot be opened or was written by a newer Berth.
 */
export function openSqliteDatabase(file: string, migrations: readonly Migration[] = MIGRATIONS): Database {
  let db: Database | undefined;
  try {
    const { Driver, nativeBinding } = loadDriver();
    db = new Driver(file, { timeout: BUSY_TIMEOUT_MS, ...(nativeBinding ? { nativeBinding } : {}) });
    // Switching a fresh file to WAL needs an exclusive moment; a racing process may get SQLITE_BUSY.
    retryWhileBusy(() => db!.pragma('journal_mode = WAL'));
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrateDatabase(db, migrations);
    return db;
  } catch (err) {
    db?.close();
    if (err instanceof BerthError) throw err;
    throw new BerthError(
      'STORE_ERROR',
      `Cannot open the workspace database ${file}: ${(err as Error).message}`,
      {
        hint: 'Check that the workspace folder is writable and the file is a Berth database.',
        cause: err,
      },
    );
  }
}

function retryWhileBusy<T>(fn: () => T): T {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      return fn();
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (!code.startsWith('SQLITE_BUSY') || Date.now() > deadline) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
}

/**
 * Applies the migrations not yet recorded in `schema_migrations`, in version order, in one IMMEDIATE
 * transaction (so two processes opening a fresh workspace at once apply them exactly once).
 * The common case, nothing to apply, takes no write lock.
 */
export function migrateDatabase(db: Database, migrations: readonly Migration[]): void {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  const pending = (): Migration[] => {
    const hasTable = db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
      .get();
    if (!hasTable) return sorted;
    const applied = new Set(
      (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map(
        (r) => r.version,
      ),
    );
    const known = new Set(sorted.map((m) => m.version));
    const unknown = [...applied].filter((v) => !known.has(v));
    if (unknown.length > 0) {
      throw new BerthError(
        'STORE_ERROR',
        `The workspace database has schema version(s) ${unknown.join(', ')} that this Berth does not know.`,
        { hint: 'Use the Berth version that created this workspace, or a newer one.' },
      );
    }
    return sorted.filter((m) => !applied.has(m.version));
  };
  if (pending().length === 0) return;
  db.transaction(() => {
    db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
    );
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    for (const m of pending()) {
      db.exec(m.sql);
      record.run(m.version, m.name, new Date().toISOString());
    }
  }).immediate();
}
