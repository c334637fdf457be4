import { BerthError } from '../core/errors.js';

/** Who an output line is about: the item's 1-based row (files) and line, or its file name (folders). */
export interface ItemKey {
  row?: number;
  line?: number;
  file?: string;
}

/** The error an output line carries for a failed item. */
export interface ItemError {
  code: string;
  message: string;
}

/**
 * `{"row":N,"prediction":...}` or `{"file":"a.png","prediction":...}`: one line of the output,
 * with its line break. Numbers and arrays of numbers are written without JSON.stringify's object
 * walk (the output is written a million times); non-finite numbers become null as in JSON.
 */
export function predictionLine(key: ItemKey, prediction: unknown): string {
  return `{${keyText(key, false)},"prediction":${predictionJson(prediction)}}\n`;
}

/** `{"row":N,"line":L,"error":{"code":"...","message":"..."}}` with its line break. */
export function errorLine(key: ItemKey, error: ItemError): string {
  return `{${keyText(key, true)},"error":${JSON.stringify({ code: error.code, message: error.message })}}\n`;
}

/** An item failure as the output reports it: BerthErrors keep their code, anything else is SCORING_FAILED. */
export function itemError(err: unknown): ItemError {
  if (err instanceof BerthError) return { code: err.code, message: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'SCORING_FAILED', message };
}

function keyText(key: ItemKey, withLine: boolean): string {
  if (key.file !== undefined) return `"file":${JSON.stringify(key.file)}`;
  return withLine && key.line !== undefined ? `"row":${key.row},"line":${key.line}` : `"row":${key.row}`;
}

function predictionJson(value: unknown): string {
  return numericJson(value) ?? JSON.stringify(value) ?? 'null';
}

/** JSON of a number or an array of numbers (pure ASCII), written by hand; undefined for anything else. */
function numericJson(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (!Array.isArray(value) || value.length === 0 || typeof value[0] !== 'number') return undefined;
  let out = '[';
  for (let i = 0; i < value.length; i++) {
    const v = value[i];
    if (typeof v !== 'number') return undefined;
    out += i === 0 ? (Number.isFinite(v) ? String(v) : 'null') : Number.isFinite(v) ? `,${v}` : ',null';
  }
  return `${out}]`;
}

/**
 * The output lines of one mini-batch, encoded once at the end: as Latin-1 (a plain copy) when
 * every line is known to be ASCII (rows with numeric predictions, the common case), else UTF-8.
 */
export class OutputLines {
  private text = '';
  private ascii = true;

  addPrediction(key: ItemKey, prediction: unknown): void {
    const numeric = key.file === undefined ? numericJson(prediction) : undefined;
    if (numeric !== undefined) {
      this.text += `{"row":${key.row},"prediction":${numeric}}\n`;
      return;
    }
    this.ascii = false;
    this.text += predictionLine(key, prediction);
  }

  addError(key: ItemKey, error: ItemError): void {
    this.ascii = false;
    this.text += errorLine(key, error);
  }

  toBuffer(): Buffer {
    return Buffer.from(this.text, this.ascii ? 'latin1' : 'utf8');
  }
}
