import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { link, mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BerthError } from '../../core/errors.js';
import type { ArtifactStore, StoredArtifact } from '../artifact-store.js';
import type { TempArea } from '../temp-area.js';
import { copyWithSha256, sha256OfFile } from './copy-with-sha256.js';

const SHA256_PATTERN = /^[0-9a-f]{64}$/;

/**
 * Artifacts as files `<root>/<first two hex digits>/<sha256>`, read-only (mode 0444).
 * Writes go to the workspace temp area, are fsynced, then renamed into place, so a blob is
 * either absent or complete. Assumes nobody edits the folder by hand (`verify` detects it).
 */
export class FsArtifactStore implements ArtifactStore {
  constructor(
    readonly root: string,
    private readonly temp: TempArea,
  ) {
    mkdirSync(root, { recursive: true });
  }

  /** Where the blob of `sha256` lives (whether or not it exists). */
  blobPath(sha256: string): string {
    if (!SHA256_PATTERN.test(sha256)) throw new BerthError('INTERNAL', `Not a sha256: "${sha256}".`);
    return join(this.root, sha256.slice(0, 2), sha256);
  }

  async put(sourcePath: string): Promise<StoredArtifact> {
    const tmp = this.temp.path('artifact');
    try {
      const { sha256, size } = await copyWithSha256(sourcePath, tmp, { mode: 0o444 });
      const dest = this.blobPath(sha256);
      if (existsSync(dest)) {
        await rm(tmp, { force: true });
        return { sha256, size, created: false };
      }
      await fsyncPath(tmp);
      await mkdir(dirname(dest), { recursive: true });
      // A racing writer of the same bytes may have renamed first: replacing identical bytes is harmless.
      await rename(tmp, dest);
      await fsyncPath(dirname(dest));
      return { sha256, size, created: true };
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => {});
      if (err instanceof BerthError) throw err;
      if ((err as { side?: string }).side === 'source') {
        throw new BerthError('PATH_NOT_FOUND', `Cannot read "${sourcePath}": ${describe(err)}.`, {
          hint: 'Check that the file exists and is readable.',
          cause: err,
        });
      }
      throw new BerthError('STORE_ERROR', `Cannot write the artifact store ${this.root}: ${describe(err)}.`, {
        hint: 'Check free disk space and permissions of the workspace folder.',
        cause: err,
      });
    }
  }

  has(sha256: string): boolean {
    return existsSync(this.blobPath(sha256));
  }

  async exportTo(sha256: string, destPath: string, options: { link?: boolean } = {}): Promise<void> {
    const blob = this.blobPath(sha256);
    if (!existsSync(blob)) throw missing(sha256);
    if (options.link) {
      try {
        await link(blob, destPath);
        await this.verify(sha256).catch(async (err) => {
          await rm(destPath, { force: true });
          throw err;
        });
        return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (
          err instanceof BerthError ||
          !['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EACCES'].includes(code ?? '')
        ) {
          throw err instanceof BerthError ? err : storeError(destPath, err);
        }
        // Different file system (or links not allowed): fall back to a verified copy.
      }
    }
    let actual: string;
    try {
      actual = (await copyWithSha256(blob, destPath)).sha256;
    } catch (err) {
      await rm(destPath, { force: true }).catch(() => {});
      if ((err as { side?: string }).side === 'source') throw missing(sha256, err);
      throw storeError(destPath, err);
    }
    if (actual !== sha256) {
      await rm(destPath, { force: true });
      throw corrupted(sha256, actual);
    }
  }

  async verify(sha256: string): Promise<void> {
    let actual: string;
    try {
      actual = (await sha256OfFile(this.blobPath(sha256))).sha256;
    } catch (err) {
      throw missing(sha256, err);
    }
    if (actual !== sha256) throw corrupted(sha256, actual);
  }

  remove(sha256: string): void {
    try {
      rmSync(this.blobPath(sha256), { force: true });
    } catch (err) {
      throw storeError(this.blobPath(sha256), err);
    }
  }
}

async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.code} (${e.message})` : String(e?.message ?? err);
}

function missing(sha256: string, cause?: unknown): BerthError {
  return new BerthError('ARTIFACT_CORRUPTED', `Stored artifact ${sha256} is missing or unreadable.`, {
    hint: 'Re-register the model from its original files.',
    details: { sha256 },
    cause,
  });
}

function corrupted(sha256: string, actual: string): BerthError {
  return new BerthError(
    'ARTIFACT_CORRUPTED',
    `Stored artifact ${sha256} is corrupted: its bytes hash to ${actual}.`,
    {
      hint: 'Re-register the model from its original files.',
      details: { sha256, actual },
    },
  );
}

function storeError(path: string, err: unknown): BerthError {
  return new BerthError('STORE_ERROR', `Cannot write "${path}": ${describe(err)}.`, {
    hint: 'Check free disk space and permissions.',
    cause: err,
  });
}
