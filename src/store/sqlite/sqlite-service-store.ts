import type { Database } from 'better-sqlite3';
import { BerthError } from '../../core/errors.js';
import type { ServiceDesired, ServiceRecord, ServiceStatus, ServiceStore } from '../service-store.js';

interface ServiceRow {
  name: string;
  compute_type: string;
  desired_json: string;
  generation: number;
  status_json: string;
  deleting: number;
  created_at: string;
  updated_at: string;
}

function toRecord(row: ServiceRow): ServiceRecord {
  return {
    name: row.name,
    computeType: row.compute_type as ServiceRecord['computeType'],
    desired: JSON.parse(row.desired_json) as ServiceDesired,
    generation: row.generation,
    status: JSON.parse(row.status_json) as ServiceStatus,
    deleting: row.deleting === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function splitModelId(id: string): { name: string; version: number } {
  const at = id.lastIndexOf(':');
  return { name: id.slice(0, at), version: Number(id.slice(at + 1)) };
}

function translate(err: unknown, what: string): never {
  if (err instanceof BerthError) throw err;
  throw new BerthError('STORE_ERROR', `Could not ${what}: ${(err as Error).message}.`, {
    hint: 'Check that the workspace folder is writable and not on a full disk.',
    cause: err,
  });
}

/**
 * Services in the workspace's SQLite file (`berth.db`), next to the model registry.
 * Expects the migrations of src/store/sqlite/migrations.ts to be applied to `db`.
 */
export class SqliteServiceStore implements ServiceStore {
  constructor(private readonly db: Database) {}

  create(input: {
    name: string;
    computeType: ServiceRecord['computeType'];
    desired: ServiceDesired;
    status: ServiceStatus;
  }): ServiceRecord {
    const now = new Date().toISOString();
    try {
      this.db.transaction(() => {
        this.db
          .prepare(
            `INSERT INTO services (name, compute_type, desired_json, generation, status_json, deleting, created_at, updated_at)
             VALUES (?, ?, ?, 1, ?, 0, ?, ?)`,
          )
          .run(
            input.name,
            input.computeType,
            JSON.stringify(input.desired),
            JSON.stringify(input.status),
            now,
            now,
          );
        this.indexModels(input.name, input.desired, input.status);
      })();
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new BerthError('SERVICE_ALREADY_EXISTS', `A service named "${input.name}" already exists.`, {
          hint: `Change it with: berth service update ${input.name} -m MODEL ...; or choose another name.`,
          cause: err,
        });
      }
      translate(err, `create service "${input.name}"`);
    }
    return this.get(input.name);
  }

  find(name: string): ServiceRecord | undefined {
    try {
      const row = this.db.prepare('SELECT * FROM services WHERE name = ?').get(name) as
        | ServiceRow
        | undefined;
      return row ? toRecord(row) : undefined;
    } catch (err) {
      translate(err, `read service "${name}"`);
    }
  }

  get(name: string): ServiceRecord {
    const record = this.find(name);
    if (!record) {
      throw new BerthError('SERVICE_NOT_FOUND', `Service "${name}" not found.`, {
        hint: 'List the services with: berth service list',
      });
    }
    return record;
  }

  list(): ServiceRecord[] {
    try {
      return (this.db.prepare('SELECT * FROM services ORDER BY name').all() as ServiceRow[]).map(toRecord);
    } catch (err) {
      translate(err, 'list services');
    }
  }

  updateDesired(name: string, desired: ServiceDesired): ServiceRecord {
    return this.write(name, 'update service', (current) => {
      this.db
        .prepare(
          'UPDATE services SET desired_json = ?, generation = generation + 1, updated_at = ? WHERE name = ?',
        )
        .run(JSON.stringify(desired), new Date().toISOString(), name);
      this.indexModels(name, desired, current.status);
    });
  }

  restoreDesired(name: string, desired: ServiceDesired): ServiceRecord {
    return this.write(name, 'restore service', (current) => {
      this.db
        .prepare('UPDATE services SET desired_json = ?, updated_at = ? WHERE name = ?')
        .run(JSON.stringify(desired), new Date().toISOString(), name);
      this.indexModels(name, desired, current.status);
    });
  }

  updateStatus(name: string, status: ServiceStatus): ServiceRecord {
    return this.write(name, 'record the status of service', (current) => {
      this.db.prepare('UPDATE services SET status_json = ? WHERE name = ?').run(JSON.stringify(status), name);
      this.indexModels(name, current.desired, status);
    });
  }

  markDeleting(name: string): ServiceRecord {
    return this.write(name, 'delete service', () => {
      this.db
        .prepare('UPDATE services SET deleting = 1, updated_at = ? WHERE name = ?')
        .run(new Date().toISOString(), name);
    });
  }

  remove(name: string): void {
    try {
      this.db.transaction(() => {
        this.db.prepare('DELETE FROM service_models WHERE service_name = ?').run(name);
        this.db.prepare('DELETE FROM services WHERE name = ?').run(name);
      })();
    } catch (err) {
      translate(err, `remove service "${name}"`);
    }
  }

  servicesUsingModel(name: string, version: number): string[] {
    try {
      const rows = this.db
        .prepare(
          'SELECT DISTINCT service_name FROM service_models WHERE model_name = ? AND model_version = ? ORDER BY service_name',
        )
        .all(name, version) as { service_name: string }[];
      return rows.map((r) => r.service_name);
    } catch (err) {
      translate(err, 'look up the services using a model');
    }
  }

  private write(name: string, what: string, fn: (current: ServiceRecord) => void): ServiceRecord {
    try {
      this.db.transaction(() => fn(this.get(name)))();
    } catch (err) {
      translate(err, `${what} "${name}"`);
    }
    return this.get(name);
  }

  /** Models in use = the desired ones plus those the replicas still serve (during or after an update). */
  private indexModels(name: string, desired: ServiceDesired, status: ServiceStatus): void {
    const ids = new Set([...desired.models, ...(status.lastApplied?.models ?? [])]);
    this.db.prepare('DELETE FROM service_models WHERE service_name = ?').run(name);
    const insert = this.db.prepare(
      'INSERT OR IGNORE INTO service_models (service_name, model_name, model_version) VALUES (?, ?, ?)',
    );
    for (const id of ids) {
      const { name: modelName, version } = splitModelId(id);
      insert.run(name, modelName, version);
    }
  }
}
