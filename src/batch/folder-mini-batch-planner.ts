import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { InputPosition, MiniBatch } from './mini-batch.js';

/**
 * The files of an input folder, recursively, as paths relative to it with `/`, sorted by their
 * UTF-16 code units (so the order is the same on every machine). Names starting with `.` (hidden
 * files such as .DS_Store) are skipped.
 */
export function listInputFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() || entry.isSymbolicLink()) out.push(path);
    }
  };
  walk('');
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** sha256 of the sorted file names: a resumed run checks the folder still lists the same files. */
export function fileListDigest(files: readonly string[]): string {
  const hash = createHash('sha256');
  for (const f of files) hash.update(`${f}\n`);
  return hash.digest('hex');
}

/** Cuts a folder's file list into mini-batches of `miniBatchSize` files, from `from.item` on. */
export class FolderMiniBatchPlanner {
  private item: number;
  private index = 0;

  constructor(
    private readonly files: readonly string[],
    private readonly miniBatchSize: number,
    from: InputPosition,
  ) {
    this.item = from.item;
  }

  next(): MiniBatch | undefined {
    if (this.item >= this.files.length) return undefined;
    const files = this.files.slice(this.item, this.item + this.miniBatchSize);
    const batch: MiniBatch = {
      index: this.index++,
      firstItem: this.item,
      count: files.length,
      start: 0,
      end: 0,
      firstLine: 0,
      endLine: 0,
      files,
    };
    this.item += files.length;
    return batch;
  }

  close(): void {}
}
