import { openSync, readSync, writeSync, writevSync } from 'node:fs';
import { toBerthError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import type { BatchScorer } from './batch-scorer.js';
import { createBatchScorer } from './create-batch-scorer.js';
import { type DecodedBatch, decodeFileMiniBatch, decodeFolderMiniBatch } from './item-decoder.js';
import type { MiniBatch } from './mini-batch.js';
import { OutputLines } from './output-line.js';
import { unpackMiniBatches } from './packed-mini-batches.js';
import type {
  BatchOutcome,
  ChunkScored,
  CoordinatorMessage,
  WorkerInit,
  WorkerMessage,
  WriteOrder,
} from './worker-protocol.js';

/**
 * A batch worker process (forked by the coordinator): loads the runtime once, then scores the
 * chunks it is sent, reading and parsing the input bytes itself, and writes each scored chunk
 * into the output file at the offset the coordinator assigns (so output never crosses the IPC
 * channel). It exits when the coordinator goes away.
 */
let init: WorkerInit | undefined;
let scorer: BatchScorer | undefined;
let inputFd = -1;
let outputFd = -1;
/** A chunk to score, its mini-batches unpacked. */
interface QueuedChunk {
  id: number;
  batches: MiniBatch[];
}
const queue: QueuedChunk[] = [];
const held = new Map<number, Buffer[]>();
let draining = false;
let lastYield = 0;
/** Longest stretch of scoring without looking at the coordinator's messages. */
const YIELD_MS = 2;

function send(message: WorkerMessage): void {
  // the coordinator may be gone (finished, killed): then there is no one to tell
  if (process.connected) process.send?.(message, undefined, {}, () => {});
}

// Forked ahead of init with the runtime's name: load onnxruntime (the slow part of a start) meanwhile.
if (process.argv[2] === 'onnx') void import('onnxruntime-node').catch(() => {});

// The coordinator finished or died: free the runtime (python child processes) and go.
process.on('disconnect', () => {
  setTimeout(() => process.exit(0), 1000).unref();
  void (scorer?.close() ?? Promise.resolve()).finally(() => process.exit(0));
});
// Workers run in their own process group (no terminal Ctrl-C); a SIGINT sent here anyway changes nothing: the coordinator decides.
process.on('SIGINT', () => {});

process.on('message', (message: CoordinatorMessage) => {
  if (message.type === 'init') void start(message);
  else if (message.type === 'chunk') {
    queue.push({ id: message.id, batches: unpackMiniBatches(message.batches) });
    if (!draining) void drain();
  } else if (message.type === 'write') write(message);
});

async function start(message: WorkerInit): Promise<void> {
  init = message;
  const log = createLogger({ name: 'berth-batch-worker', stderr: true, level: message.logLevel });
  try {
    if (message.input.kind !== 'folder') inputFd = openSync(message.input.path, 'r');
    outputFd = openSync(message.output, 'r+');
    scorer = await createBatchScorer({
      config: message.config,
      models: message.models,
      log,
      limits: message.limits,
    });
    send({ type: 'ready', mode: scorer.mode });
  } catch (err) {
    const e = toBerthError(err);
    send({ type: 'init-failed', error: { code: e.code, message: e.message, hint: e.hint } });
    setTimeout(() => process.exit(1), 100).unref();
  }
}

async function drain(): Promise<void> {
  draining = true;
  try {
    while (queue.length > 0) {
      const order = queue.shift() as QueuedChunk;
      const started = performance.now();
      const buffers: Buffer[] = [];
      const scored: ChunkScored = {
        type: 'scored',
        id: order.id,
        bytes: [],
        items: [],
        failed: [],
        busyMs: 0,
      };
      const bytes = readChunk(order);
      for (const batch of order.batches) {
        const input = (init as WorkerInit).input;
        const decoded =
          input.kind === 'folder'
            ? decodeFolderMiniBatch(batch, input)
            : decodeFileMiniBatch(bytes.buf, bytes.offset, batch, input, {
                flatRows: (scorer as BatchScorer).flatRows,
              });
        const { lines, outcome } = await scoreItems(decoded);
        // let write orders through while a long chunk is being scored (they unblock the other workers)
        if (performance.now() - lastYield > YIELD_MS) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          lastYield = performance.now();
        }
        const buf = lines.toBuffer();
        scored.bytes.push(buf.length);
        scored.items.push(outcome.items);
        if (outcome.failures > 0) {
          const { failures, malformed, firstError } = outcome;
          scored.failed.push({ at: scored.bytes.length - 1, failures, malformed, firstError });
        }
        buffers.push(buf);
      }
      held.set(order.id, buffers);
      scored.busyMs = performance.now() - started;
      send(scored);
    }
  } catch (err) {
    const e = toBerthError(err);
    send({ type: 'failed', error: { code: e.code, message: e.message } });
    setTimeout(() => process.exit(1), 100).unref();
  } finally {
    draining = false;
  }
}

async function scoreItems(decoded: DecodedBatch): Promise<{ lines: OutputLines; outcome: BatchOutcome }> {
  const { items } = decoded;
  let valid = items;
  for (const item of items) {
    if (item.malformed) {
      valid = items.filter((i) => !i.malformed);
      break;
    }
  }
  const result =
    valid.length > 0
      ? await (scorer as BatchScorer).score({ ...decoded, items: valid })
      : { predictions: [] };
  const { predictions, errors } = result;
  const outcome: BatchOutcome = { bytes: 0, items: items.length, failures: 0, malformed: [] };
  const lines = new OutputLines();
  let j = 0;
  for (const item of items) {
    if (item.malformed) {
      outcome.malformed.push({ line: item.line, message: item.malformed.message });
      outcome.failures++;
      lines.addError(item, item.malformed);
      continue;
    }
    const error = errors?.[j];
    if (error) {
      outcome.failures++;
      outcome.firstError ??= `${item.file ?? `line ${item.line}`}: ${error.message}`;
      lines.addError(item, error);
    } else {
      lines.addPrediction(item, predictions[j]);
    }
    j++;
  }
  return { lines, outcome };
}

/** Reads the byte range of a chunk's mini-batches (files); folders read their files per item. */
function readChunk(order: QueuedChunk): { buf: Buffer; offset: number } {
  if (inputFd < 0 || order.batches.length === 0) return { buf: Buffer.alloc(0), offset: 0 };
  const offset = order.batches[0].start;
  const end = order.batches[order.batches.length - 1].end;
  const buf = Buffer.allocUnsafe(end - offset);
  let got = 0;
  while (got < buf.length) {
    const n = readSync(inputFd, buf, got, buf.length - got, offset + got);
    if (n === 0) break;
    got += n;
  }
  return { buf: got === buf.length ? buf : buf.subarray(0, got), offset };
}

function write(order: WriteOrder): void {
  const buffers = (held.get(order.id) ?? []).slice(0, order.batches);
  held.delete(order.id);
  let total = 0;
  for (const b of buffers) total += b.length;
  let done = buffers.length > 0 ? writevSync(outputFd, buffers, order.offset) : 0;
  if (done < total) {
    const rest = Buffer.concat(buffers).subarray(done);
    let at = 0;
    while (at < rest.length) at += writeSync(outputFd, rest, at, rest.length - at, order.offset + done + at);
    done = total;
  }
  send({ type: 'written', id: order.id, bytes: total });
}
