import type { MiniBatch } from './mini-batch.js';

/**
 * Consecutive mini-batches as they cross the IPC channel: the first one whole, then one number per
 * field that changes. A 1 MiB chunk holds about 340 mini-batches; as objects they made a 36 KB JSON
 * message that the coordinator stringified and a worker parsed for every chunk (a tenth of the
 * coordinator's CPU in a run of small rows); packed, it is a few KB.
 */
export interface PackedMiniBatches {
  first: MiniBatch;
  /** For each mini-batch after the first: where its byte range ends, its items, the line at its end. */
  ends: number[];
  counts: number[];
  endLines: number[];
  /** Folders: the file names of each mini-batch after the first. */
  files?: string[][];
}

/**
 * Packs mini-batches that follow each other (each starts where the one before ends: index, item,
 * byte and line), as the planners make them and chunks group them.
 * @throws Error when they do not follow each other (a bug in the caller).
 */
export function packMiniBatches(batches: readonly MiniBatch[]): PackedMiniBatches {
  const [first] = batches;
  const packed: PackedMiniBatches = { first, ends: [], counts: [], endLines: [] };
  if (first.files) packed.files = [];
  for (let i = 1; i < batches.length; i++) {
    const b = batches[i];
    const before = batches[i - 1];
    if (
      b.index !== before.index + 1 ||
      b.firstItem !== before.firstItem + before.count ||
      b.start !== before.end ||
      b.firstLine !== before.endLine
    ) {
      throw new Error(`mini-batch ${b.index} does not follow mini-batch ${before.index}`);
    }
    packed.ends.push(b.end);
    packed.counts.push(b.count);
    packed.endLines.push(b.endLine);
    if (packed.files) packed.files.push(b.files ?? []);
  }
  return packed;
}

/** The mini-batches `packMiniBatches` packed. */
export function unpackMiniBatches(packed: PackedMiniBatches): MiniBatch[] {
  const out: MiniBatch[] = [packed.first];
  let before = packed.first;
  for (let i = 0; i < packed.ends.length; i++) {
    const b: MiniBatch = {
      index: before.index + 1,
      firstItem: before.firstItem + before.count,
      count: packed.counts[i],
      start: before.end,
      end: packed.ends[i],
      firstLine: before.endLine,
      endLine: packed.endLines[i],
    };
    if (packed.files) b.files = packed.files[i];
    out.push(b);
    before = b;
  }
  return out;
}
