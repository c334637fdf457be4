import { BerthError } from './errors.js';

/** Names of models, services and aliases: a letter or digit, then up to 254 of [A-Za-z0-9_.-]. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/;

/** A parsed model reference: `NAME` (latest), `NAME:VERSION` or `NAME@ALIAS`. */
export type ModelRef =
  | { kind: 'latest'; name: string }
  | { kind: 'version'; name: string; version: number }
  | { kind: 'alias'; name: string; alias: string };

export function assertValidName(name: string, what = 'name'): void {
  if (!NAME_PATTERN.test(name)) {
    throw new BerthError(
      'INVALID_NAME',
      `Invalid ${what} "${name}": use 1-255 characters of A-Z a-z 0-9 _ . - starting with a letter or digit.`,
      {
        hint: `Rename it, e.g. "${name.replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'model'}".`,
      },
    );
  }
}

export function parseModelRef(text: string): ModelRef {
  const bad = () =>
    new BerthError('INVALID_MODEL_REF', `Invalid model reference "${text}".`, {
      hint: 'Use NAME (latest version), NAME:VERSION (e.g. iris:3) or NAME@ALIAS (e.g. iris@production).',
    });
  const at = text.indexOf('@');
  const colon = text.lastIndexOf(':');
  if (at >= 0) {
    const name = text.slice(0, at);
    const alias = text.slice(at + 1);
    if (!NAME_PATTERN.test(name) || !NAME_PATTERN.test(alias)) throw bad();
    return { kind: 'alias', name, alias };
  }
  if (colon >= 0) {
    const name = text.slice(0, colon);
    const v = text.slice(colon + 1);
    if (!NAME_PATTERN.test(name) || !/^[1-9][0-9]{0,9}$/.test(v)) throw bad();
    return { kind: 'version', name, version: Number(v) };
  }
  if (!NAME_PATTERN.test(text)) throw bad();
  return { kind: 'latest', name: text };
}

export function formatModelRef(ref: ModelRef): string {
  if (ref.kind === 'version') return `${ref.name}:${ref.version}`;
  if (ref.kind === 'alias') return `${ref.name}@${ref.alias}`;
  return ref.name;
}
