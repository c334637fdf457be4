import { closeSync, fdatasync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { BerthError } from '../core/errors.js';
import type { BatchInputKind } from './batch-options.js';
import type { BatchStatus } from './batch-summary.js';
import type { InputPosition } from './mini-batch.js';

/**
 * The checkpoint of a batch run, next to its output (`<output>.checkpoint.json`). It is replaced
 * atomically (temp file, fsync, rename) after the output bytes it counts were fsync'd, so after a
 * crash at any moment the output holds at least `outputBytes` good bytes: a resumed run truncates
 * the output there and continues from `next`.
 */
export interface BatchCheckpoint {
  version: 1;
  state: 'running' | BatchStatus;
  input: {
    path: string;
    kind: BatchInputKind;
    /** Files: size and modification time; folders: file count and digest of the names. */
    size: number;
    mtimeMs: number;
    fileCount?: number;
    filesSha256?: string;
  };
  miniBatchSize: number;
  /** Output bytes that are complete and counted below. */
  outputBytes: number;
  /** Where the next mini-batch starts. */
  next: InputPosition;
  items: number;
  failures: number;
  malformed: number;
  malformedLines: number[];
  updatedAt: string;
}

/** Where the checkpoint of an output file lives. */
export function checkpointPathFor(output: string): string {
  return `${output}.checkpoint.json`;
}

/** Reads a checkpoint; undefined when there is none. @throws INVALID_ARGUMENT when it is unreadable. */
export function readCheckpoint(path: string): BatchCheckpoint | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new BerthError(
      'INVALID_ARGUMENT',
      `Cannot read the checkpoint "${path}": ${(err as Error).message}`,
      { cause: err },
    );
  }
  try {
    const cp = JSON.parse(text) as BatchCheckpoint;
    if (cp.version !== 1 || typeof cp.outputBytes !== 'number' || typeof cp.next?.offset !== 'number')
      throw new Error('unknown format');
    return cp;
  } catch (err) {
    throw new BerthError(
      'INVALID_ARGUMENT',
      `The checkpoint "${path}" is not a Berth batch checkpoint: ${(err as Error).message}.`,
      {
        hint: 'Delete it and run again without --resume to start over.',
        cause: err,
      },
    );
  }
}

/** Replaces the checkpoint atomically and durably (temp file, fsync, rename). */
export function writeCheckpoint(path: string, checkpoint: BatchCheckpoint): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, `${JSON.stringify(checkpoint, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/**
 * The same off the event loop: fsyncs the output file first (so every byte the checkpoint counts
 * is on disk before the checkpoint says so), then replaces the checkpoint.
 */
export async function commitCheckpoint(
  outputFd: number,
  path: string,
  checkpoint: BatchCheckpoint,
): Promise<void> {
  await new Promise<void>((resolve, reject) => fdatasync(outputFd, (err) => (err ? reject(err) : resolve())));
  const tmp = `${path}.tmp`;
  const file = await open(tmp, 'w');
  try {
    await file.writeFile(`${JSON.stringify(checkpoint, null, 2)}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
}
