import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { BerthError } from '../../src/core/errors.js';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { openSqliteDatabase } from '../../src/store/sqlite/open-sqlite-database.js';
import { SqliteMetadataStore } from '../../src/store/sqlite/sqlite-metadata-store.js';
import { runMetadataStoreSuite } from '../conformance/metadata-store.case.js';
import { tempDir } from '../helpers/temp-dir.js';

runMetadataStoreSuite({
  open(t) {
    const store = new SqliteMetadataStore(openSqliteDatabase(join(tempDir(t), 'berth.db')));
    t.after(() => store.close());
    return store;
  },
});

test('when a workspace database is opened then it is in WAL mode with every migration recorded once', (t) => {
  const file = join(tempDir(t), 'berth.db');
  openSqliteDatabase(file).close();
  const db = openSqliteDatabase(file);
  t.after(() => db.close());
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.ok(Number(db.pragma('busy_timeout', { simple: true })) >= 5000, 'writers wait for each other');
  const rows = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as {
    version: number;
  }[];
  assert.deepEqual(
    rows.map((r) => r.version),
    [...MIGRATIONS].map((m) => m.version).sort((a, b) => a - b),
  );
});

test('when a later migration is added then reopening applies only it', (t) => {
  const file = join(tempDir(t), 'berth.db');
  openSqliteDatabase(file).close();
  const extra = [
    ...MIGRATIONS,
    { version: 999, name: 'test table', sql: 'CREATE TABLE later_thing (x INTEGER);' },
  ];
  const db = openSqliteDatabase(file, extra);
  t.after(() => db.close());
  const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  assert.equal(count("SELECT count(*) AS n FROM sqlite_master WHERE name = 'later_thing'"), 1);
  assert.equal(
    (db.prepare('SELECT count(*) AS n FROM schema_migrations').get() as { n: number }).n,
    extra.length,
  );
});

test('when the database has a schema version this Berth does not know then opening fails with STORE_ERROR', (t) => {
  const file = join(tempDir(t), 'berth.db');
  openSqliteDatabase(file, [...MIGRATIONS, { version: 998, name: 'future', sql: 'SELECT 1;' }]).close();
  assert.throws(
    () => openSqliteDatabase(file),
    (e) => e instanceof BerthError && e.code === 'STORE_ERROR' && e.exitCode === 6 && /998/.test(e.message),
  );
});

test('when the file is not a database then opening fails with STORE_ERROR', async (t) => {
  const { writeFileSync } = await import('node:fs');
  const file = join(tempDir(t), 'berth.db');
  writeFileSync(file, 'this is not sqlite at all, just some text that is long enough to have a header......');
  assert.throws(
    () => openSqliteDatabase(file),
    (e) => e instanceof BerthError && e.code === 'STORE_ERROR',
  );
});
