import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BerthError } from '../../../core/errors.js';
import { assertValidName } from '../../../core/model-ref.js';

/** An attached Kubernetes cluster: where services with `"computeType": "kubernetes"` run. */
export interface KubernetesCompute {
  name: string;
  type: 'kubernetes';
  /** Absolute path of the kubeconfig file (read on every use, so rotated credentials are picked up). */
  kubeconfig: string;
  /** Context of the kubeconfig (resolved at attach time: its current-context when none was given). */
  context: string;
  namespace: string;
  /** Registry prefix of service images, e.g. `registry.example.com/ml`. */
  imageRegistry?: string;
  /** One image for every service (instead of one built per service from its package). */
  image?: string;
  /** The workspace's management API as pods reach it; when set, init containers download the models from it. */
  workspaceUrl?: string;
  attachedAt: string;
}

/**
 * Attached computes, kept in `<workspace>/computes.json` (written to a temp file, then renamed).
 * Independent of the SQLite store: a compute is a pointer to a kubeconfig, not service state.
 */
export class FileComputeStore {
  readonly file: string;

  constructor(workspaceDir: string) {
    this.file = join(workspaceDir, 'computes.json');
  }

  list(): KubernetesCompute[] {
    if (!existsSync(this.file)) return [];
    try {
      const doc = JSON.parse(readFileSync(this.file, 'utf8')) as { computes?: KubernetesCompute[] };
      return [...(doc.computes ?? [])].sort((a, b) => a.name.localeCompare(b.name));
    } catch (cause) {
      throw new BerthError('STORE_ERROR', `Cannot read the attached computes in "${this.file}".`, {
        hint: 'Fix or remove the file, then attach the computes again.',
        cause,
      });
    }
  }

  find(name: string): KubernetesCompute | undefined {
    return this.list().find((c) => c.name === name);
  }

  /** @throws COMPUTE_NOT_FOUND */
  get(name: string): KubernetesCompute {
    const c = this.find(name);
    if (!c) {
      throw new BerthError('COMPUTE_NOT_FOUND', `No compute named "${name}" is attached.`, {
        hint: 'List them with "berth compute list" or attach one with "berth compute attach NAME --kubeconfig PATH".',
      });
    }
    return c;
  }

  /**
   * The compute a kubernetes service uses: the named one, else the only one attached.
   * @throws COMPUTE_NOT_FOUND when the name is unknown, none is attached, or several are and none was named.
   */
  resolve(name?: string): KubernetesCompute {
    if (name) return this.get(name);
    const all = this.list();
    if (all.length === 1) return all[0];
    throw new BerthError(
      'COMPUTE_NOT_FOUND',
      all.length === 0
        ? 'No Kubernetes compute is attached to this workspace.'
        : `Several computes are attached (${all.map((c) => c.name).join(', ')}); name one.`,
      {
        hint:
          all.length === 0
            ? 'Attach a cluster: berth compute attach NAME --kubeconfig PATH [--context C] [--namespace NS].'
            : 'Pass --compute NAME.',
      },
    );
  }

  /** @throws INVALID_NAME; COMPUTE_ALREADY_EXISTS when `name` is taken */
  assertNameFree(name: string): void {
    assertValidName(name, 'compute name');
    if (this.find(name)) {
      throw new BerthError('COMPUTE_ALREADY_EXISTS', `A compute named "${name}" is attached already.`, {
        hint: `Detach it first: berth compute detach ${name}`,
      });
    }
  }

  /** @throws INVALID_NAME; COMPUTE_ALREADY_EXISTS */
  add(compute: KubernetesCompute): KubernetesCompute {
    this.assertNameFree(compute.name);
    this.write([...this.list(), compute]);
    return compute;
  }

  /** @throws COMPUTE_NOT_FOUND */
  remove(name: string): KubernetesCompute {
    const c = this.get(name);
    this.write(this.list().filter((x) => x.name !== name));
    return c;
  }

  private write(computes: KubernetesCompute[]): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ computes }, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}
