import { createHash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';

/** Read/write unit; three rotate so reading, hashing and writing overlap. */
const CHUNK_BYTES = 4 * 1024 * 1024; // 4 MiB

export interface HashedCopy {
  sha256: string;
  size: number;
}

/**
 * Copies `sourcePath` to the new file `destPath` (which must not exist) while hashing the bytes,
 * in one pass: chunk N+1 is read and chunk N-1 written (libuv threads) while chunk N is hashed
 * (this thread). The hash is of exactly the bytes written. With `fsync`, the data is flushed
 * before the promise resolves. Errors carry `side: 'source' | 'dest'` to tell which file failed.
 */
export async function copyWithSha256(
  sourcePath: string,
  destPath: string,
  options: { fsync?: boolean; mode?: number } = {},
): Promise<HashedCopy> {
  const src = await open(sourcePath, 'r').catch((err) => Promise.reject(tagSide(err, 'source')));
  try {
    const dst = await open(destPath, 'wx', options.mode ?? 0o644).catch((err) =>
      Promise.reject(tagSide(err, 'dest')),
    );
    try {
      const hash = createHash('sha256');
      const buffers = [0, 1, 2].map(() => Buffer.allocUnsafe(CHUNK_BYTES));
      let size = 0;
      let index = 0;
      let reading = readChunk(src, buffers[0], 0);
      let writing: Promise<void> = Promise.resolve();
      try {
        for (;;) {
          const bytesRead = await reading;
          if (bytesRead === 0) break;
          const chunk = buffers[index % 3].subarray(0, bytesRead);
          index++;
          reading = handled(readChunk(src, buffers[index % 3], size + bytesRead));
          hash.update(chunk);
          await writing;
          writing = handled(writeChunk(dst, chunk, size));
          size += bytesRead;
        }
        await writing;
      } finally {
        // On failure, let the other in-flight operation settle before the handles close.
        await Promise.allSettled([reading, writing]);
      }
      if (options.fsync) await dst.sync().catch((err) => Promise.reject(tagSide(err, 'dest')));
      return { sha256: hash.digest('hex'), size };
    } finally {
      await dst.close();
    }
  } finally {
    await src.close();
  }
}

/** sha256 and size of a file's bytes, read in large chunks with the next read overlapping the hashing. */
export async function sha256OfFile(path: string): Promise<HashedCopy> {
  const src = await open(path, 'r');
  try {
    const hash = createHash('sha256');
    const buffers = [Buffer.allocUnsafe(CHUNK_BYTES), Buffer.allocUnsafe(CHUNK_BYTES)];
    let size = 0;
    let index = 0;
    let reading = readChunk(src, buffers[0], 0);
    try {
      for (;;) {
        const bytesRead = await reading;
        if (bytesRead === 0) break;
        const chunk = buffers[index % 2].subarray(0, bytesRead);
        index++;
        reading = handled(readChunk(src, buffers[index % 2], size + bytesRead));
        hash.update(chunk);
        size += bytesRead;
      }
    } finally {
      await Promise.allSettled([reading]);
    }
    return { sha256: hash.digest('hex'), size };
  } finally {
    await src.close();
  }
}

async function readChunk(fh: FileHandle, buffer: Buffer, position: number): Promise<number> {
  try {
    return (await fh.read(buffer, 0, buffer.length, position)).bytesRead;
  } catch (err) {
    throw tagSide(err, 'source');
  }
}

async function writeChunk(fh: FileHandle, chunk: Buffer, position: number): Promise<void> {
  try {
    let done = 0;
    while (done < chunk.length) {
      const { bytesWritten } = await fh.write(chunk, done, chunk.length - done, position + done);
      done += bytesWritten;
    }
  } catch (err) {
    throw tagSide(err, 'dest');
  }
}

/** Marks a promise as handled now (it is awaited later), so an early rejection is not reported as unhandled. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

function tagSide(err: unknown, side: 'source' | 'dest'): unknown {
  if (err && typeof err === 'object' && !('side' in err)) Object.assign(err, { side });
  return err;
}
