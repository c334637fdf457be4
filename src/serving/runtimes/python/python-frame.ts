/**
 * The framing between Node and a Python worker (python/berth_worker.py): each message is
 * `[u32 big-endian length of what follows][u8 kind][payload]`, so any bytes pass unchanged.
 */

/** Node → worker: run with the payload as text (what the client posted). */
export const FRAME_TEXT = 0x53; // 'S'
/** Node → worker: run with the payload as bytes (application/octet-stream). */
export const FRAME_BYTES = 0x42; // 'B'
/** Node → worker: finish and exit. */
export const FRAME_QUIT = 0x51; // 'Q'
/** Worker → Node: init() finished; JSON {python, pid, schema}. */
export const FRAME_READY = 0x52; // 'R'
/** Worker → Node: loading the script or init() failed; JSON {code, message, traceback?}. */
export const FRAME_INIT_FAILED = 0x46; // 'F'
/** Worker → Node: run() result as JSON bytes. */
export const FRAME_RESULT = 0x4f; // 'O'
/** Worker → Node: run() failed; JSON {code, message, traceback?}. */
export const FRAME_ERROR = 0x45; // 'E'

export type RequestFrameKind = typeof FRAME_TEXT | typeof FRAME_BYTES;

export interface Frame {
  kind: number;
  payload: Buffer;
}

/** Largest frame accepted from a worker (a result bigger than this is a runaway script). */
export const MAX_FRAME_BYTES = 1024 * 1024 * 1024;

/** The 5-byte header of a frame carrying `payloadLength` bytes. */
export function frameHeader(kind: number, payloadLength: number): Buffer {
  const header = Buffer.allocUnsafe(5);
  header.writeUInt32BE(payloadLength + 1, 0);
  header[4] = kind;
  return header;
}

/** Splits a byte stream into frames; keeps partial frames until the rest arrives. */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** Adds bytes and returns the frames now complete. Throws when a frame claims an absurd size. */
  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    while (this.buffered >= 5) {
      const head = this.peek(5);
      const length = head.readUInt32BE(0);
      if (length < 1 || length > MAX_FRAME_BYTES) {
        throw new Error(`bad frame length ${length} from the Python worker`);
      }
      if (this.buffered < 4 + length) break;
      const all = this.take(4 + length);
      frames.push({ kind: all[4], payload: all.subarray(5) });
    }
    return frames;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length >= n) return this.chunks[0].subarray(0, n);
    const joined = Buffer.concat(this.chunks);
    this.chunks = [joined];
    return joined.subarray(0, n);
  }

  private take(n: number): Buffer {
    const first = this.chunks[0];
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const joined = Buffer.concat(this.chunks);
      out = joined.subarray(0, n);
      this.chunks = joined.length > n ? [joined.subarray(n)] : [];
    }
    this.buffered -= n;
    return out;
  }
}
