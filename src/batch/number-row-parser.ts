const POW10: number[] = Array.from({ length: 23 }, (_, i) => 10 ** i);
const SPACE = 32;
const TAB = 9;
const CR = 13;
const COMMA = 44;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const NINE = 57;
const OPEN = 91;
const CLOSE = 93;
const E_LOWER = 101;
const E_UPPER = 69;
const PLUS = 43;

export function parseNumberRow(buf: Uint8Array, start: number, end: number): number[] | undefined {
  for (;;) {
    const n = parseNumbers(buf, start, end, scratch, 0);
    if (n === NO_ROOM) {
      scratch = new Float64Array(scratch.length * 2);
      continue;
    }
    return n < 0 ? undefined : copyOut(scratch, n);
  }
}

/** The first `n` numbers of `from` as a plain array (a copy loop: far faster than Array.from on a subarray). */
export function copyOut(from: Float64Array, n: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = from[i];
  return out;
}

/** `parseNumbers` ran out of room in `out`: grow it and call again. */
export const NO_ROOM = -2;

let scratch = new Float64Array(4096);

/**
 * Like `parseNumberRow`, but writes the numbers into `out` from index `at` on (a mini-batch's
 * flat tensor data), without allocating.
 * @returns how many numbers were written, -1 when the bytes are not a plain array of numbers, or
 *   NO_ROOM when `out` is too small.
 */
export function parseNumbers(
  buf: Uint8Array,
  start: number,
  end: number,
  out: Float64Array,
  at: number,
): number {
  return scan(buf, start, end, out, at);
}

// Reads one byte past a number without checking `end`: the byte at `end` (a line break, or past the
// buffer, read as 0) never continues a number, and the final check wants i === end exactly.
function scan(buf: Uint8Array, start: number, end: number, out: Float64Array, at: number): number {
  const cap = out.length;
  let n = at;
  let i = start;
  while (i < end && (buf[i] === SPACE || buf[i] === TAB)) i++;
  if (i >= end || buf[i] !== OPEN) return -1;
  i++;
  let c = buf[i] | 0;
  while (c === SPACE || c === TAB) c = buf[++i] | 0;
  if (c === CLOSE) {
    i++;
  } else {
    for (;;) {
      let neg = false;
      if (c === MINUS) {
        neg = true;
        c = buf[++i] | 0;
      }
      let mantissa = 0;
      let digits = 0;
      if (c === ZERO) {
        digits = 1;
        c = buf[++i] | 0;
      } else {
        while (c >= ZERO && c <= NINE) {
          mantissa = mantissa * 10 + (c - ZERO);
          digits++;
          c = buf[++i] | 0;
        }
        if (digits === 0) return -1;
      }
      let scale = 0;
      if (c === DOT) {
        c = buf[++i] | 0;
        const before = digits;
        while (c >= ZERO && c <= NINE) {
          mantissa = mantissa * 10 + (c - ZERO);
          digits++;
          c = buf[++i] | 0;
        }
        scale = digits - before;
        if (scale === 0) return -1;
      }
      let exponent = 0;
      if (c === E_LOWER || c === E_UPPER) {
        c = buf[++i] | 0;
        let negExp = false;
        if (c === MINUS || c === PLUS) {
          negExp = c === MINUS;
          c = buf[++i] | 0;
        }
        let expDigits = 0;
        while (c >= ZERO && c <= NINE) {
          exponent = exponent * 10 + (c - ZERO);
          expDigits++;
          c = buf[++i] | 0;
        }
        if (expDigits === 0 || expDigits > 4) return -1;
        if (negExp) exponent = -exponent;
      }
      // more than 15 significant digits may not be exact in a double: let JSON.parse decide
      if (digits > 15) return -1;
      const p = exponent - scale;
      let value: number;
      if (p === 0) value = mantissa;
      else if (p > 0 && p <= 22) value = mantissa * POW10[p];
      else if (p < 0 && p >= -22) value = mantissa / POW10[-p];
      else return -1;
      if (n === cap) return NO_ROOM;
      out[n++] = neg ? -value : value;
      while (c === SPACE || c === TAB) c = buf[++i] | 0;
      if (c === COMMA) {
        c = buf[++i] | 0;
        while (c === SPACE || c === TAB) c = buf[++i] | 0;
        continue;
      }
      if (c === CLOSE) {
        i++;
        break;
      }
      return -1;
    }
  }
  while (i < end && (buf[i] === SPACE || buf[i] === TAB || buf[i] === CR)) i++;
  return i === end ? n - at : -1;
}
