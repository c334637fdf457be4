import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Database } from 'better-sqlite3';
import { BerthError } from '../core/errors.js';
import type { ArtifactStore } from './artifact-store.js';
import { FsArtifactStore } from './fs/fs-artifact-store.js';
import type { MetadataStore } from './metadata-store.js';
import { openSqliteDatabase } from './sqlite/open-sqlite-database.js';
import { SqliteMetadataStore } from './sqlite/sqlite-metadata-store.js';
import { TempArea } from './temp-area.js';

/** The stores of one workspace folder, opened together. */
export interface WorkspaceStores {
  /** Absolute workspace folder. */
  dir: string;
  metadata: MetadataStore;
  artifacts: ArtifactStore;
  /** The better-sqlite3 handle of `<dir>/berth.db`, for other stores kept in the same file. */
  db: Database;
  /** `<dir>/tmp`: where writes start before being renamed into place. */
  temp: TempArea;
  /** Closes the database; idempotent. */
  close(): void;
}

/**
 * Opens (creating on first use) the workspace at `dir`, the composition root of the store layer:
 * ```
 * <dir>/berth.db        metadata (SQLite, WAL)
 * <dir>/artifacts/      blobs named by sha256
 * <dir>/models/N/V/     materialized model versions
 * <dir>/tmp/            writes in progress
 * ```
 * Leftovers in `tmp/` of processes that died are removed here.
 * @throws STORE_ERROR when the folder or database cannot be created or opened.
 */
export function openWorkspaceStores(dir: string): WorkspaceStores {
  const root = resolve(dir);
  try {
    mkdirSync(join(root, 'tmp'), { recursive: true });
  } catch (err) {
    throw new BerthError(
      'STORE_ERROR',
      `Cannot create the workspace folder ${root}: ${(err as Error).message}`,
      {
        hint: 'Pass a writable folder with --workspace or BERTH_WORKSPACE.',
        cause: err,
      },
    );
  }
  const temp = new TempArea(join(root, 'tmp'));
  temp.cleanStale();
  const db = openSqliteDatabase(join(root, 'berth.db'));
  const metadata = new SqliteMetadataStore(db);
  return {
    dir: root,
    metadata,
    artifacts: new FsArtifactStore(join(root, 'artifacts'), temp),
    db,
    temp,
    close: () => metadata.close(),
  };
}
