import type { IncomingMessage } from 'node:http';

/** Called once: with the whole body, or with `tooLarge` when it went past the limit (reading stopped). */
export type BodyCallback = (body: Buffer | undefined, tooLarge: boolean, aborted: boolean) => void;

/**
 * Reads a request body up to `maxBytes`. Past the limit it stops listening and pauses the stream
 * at once (the caller answers 413 and closes the connection), so an oversized body is never
 * buffered whole. A client that goes away mid-body gets `aborted`.
 */
export function readBody(req: IncomingMessage, maxBytes: number, done: BodyCallback): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const onData = (chunk: Buffer): void => {
    size += chunk.length;
    if (size > maxBytes) {
      finished = true;
      req.removeListener('data', onData);
      req.pause();
      chunks.length = 0;
      done(undefined, true, false);
      return;
    }
    chunks.push(chunk);
  };
  req.on('data', onData);
  req.on('end', () => {
    if (finished) return;
    finished = true;
    done(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size), false, false);
  });
  req.on('error', () => {
    if (finished) return;
    finished = true;
    done(undefined, false, true);
  });
}
