/**
 * Versioned schema of the workspace database (`<workspace>/berth.db`), applied in order by
 * `migrateDatabase` inside one IMMEDIATE transaction and recorded in `schema_migrations`.
 * Never edit an entry that has shipped: add a new one. REGISTRY owns versions 1..9, DEPLOY 10 and up.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'model registry',
    sql: `
-- One row per model name; last_version only grows, so a deleted version number is never reused.
CREATE TABLE models (
  name TEXT PRIMARY KEY,
  last_version INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE model_versions (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL,
  file_count INTEGER NOT NULL,
  description TEXT,
  created_at TEXT NOT NULL,
  UNIQUE (name, version)
);

CREATE TABLE model_files (
  version_id INTEGER NOT NULL REFERENCES model_versions (id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL,
  PRIMARY KEY (version_id, path)
) WITHOUT ROWID;
CREATE INDEX model_files_by_sha256 ON model_files (sha256);

CREATE TABLE model_tags (
  version_id INTEGER NOT NULL REFERENCES model_versions (id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (version_id, key)
) WITHOUT ROWID;
CREATE INDEX model_tags_by_key_value ON model_tags (key, value);

CREATE TABLE model_properties (
  version_id INTEGER NOT NULL REFERENCES model_versions (id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (version_id, key)
) WITHOUT ROWID;

CREATE TABLE model_aliases (
  name TEXT NOT NULL,
  alias TEXT NOT NULL,
  version_id INTEGER NOT NULL REFERENCES model_versions (id) ON DELETE CASCADE,
  PRIMARY KEY (name, alias)
) WITHOUT ROWID;
CREATE INDEX model_aliases_by_version ON model_aliases (version_id);
`,
  },
  {
    version: 10,
    name: 'services (deploy)',
    sql: `
-- Desired state (JSON) + generation, and the observed status (JSON) of each service.
CREATE TABLE services (
  name TEXT PRIMARY KEY,
  compute_type TEXT NOT NULL,
  desired_json TEXT NOT NULL,
  generation INTEGER NOT NULL,
  status_json TEXT NOT NULL,
  deleting INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

-- Model versions each service desires or still serves: the registry's usage guard reads it.
CREATE TABLE service_models (
  service_name TEXT NOT NULL,
  model_name TEXT NOT NULL,
  model_version INTEGER NOT NULL,
  PRIMARY KEY (service_name, model_name, model_version)
) WITHOUT ROWID;
CREATE INDEX service_models_by_model ON service_models (model_name, model_version);
`,
  },
];
