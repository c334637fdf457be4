/**
 * One mini-batch: up to `miniBatchSize` consecutive items, scored together (one tensor, one
 * `runBatch()` call). For files it is a byte range of whole lines (records); for folders a list of
 * file names. The coordinator plans them; workers read and parse the bytes themselves.
 */
export interface MiniBatch {
  /** 0-based position among the mini-batches of this run (the order of the output). */
  index: number;
  /** 0-based index of the first item in the whole input. */
  firstItem: number;
  /** Items in this mini-batch. */
  count: number;
  /** Files: byte range [start, end) of the input holding the items' lines. */
  start: number;
  end: number;
  /** Files: 1-based line number of the line at `start`. */
  firstLine: number;
  /** Files: 1-based line number of the line at `end` (where the next mini-batch starts). */
  endLine: number;
  /** Folders: the items' paths relative to the input folder. */
  files?: string[];
}

/** Where the next mini-batch of a run starts: the resume point a checkpoint records. */
export interface InputPosition {
  /** Byte offset in the input (files). */
  offset: number;
  /** 0-based index of the next item. */
  item: number;
  /** 1-based line number at `offset` (files). */
  line: number;
}
