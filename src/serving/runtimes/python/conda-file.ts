import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parse } from 'yaml';
import { BerthError } from '../../../core/errors.js';

/** One package a conda file asks for. */
export interface PythonRequirement {
  /** Distribution name as written (`scikit-learn`, `inference-schema`). */
  name: string;
  /** Extras in brackets (`inference-schema[numpy-support]` → `numpy-support`). */
  extras: string[];
  /** What to give pip to install it (conda pins translated: `numpy=1.16` → `numpy==1.16.*`). */
  pipSpec: string;
  /** The exact version pinned with `==` (or conda's `=`), if any. */
  pinned?: string;
  from: 'conda' | 'pip';
}

/** What Berth reads from a conda environment file. */
export interface CondaEnvironment {
  /** `python=3.6.2` → "3.6.2"; absent when the file does not say. */
  pythonVersion?: string;
  requirements: PythonRequirement[];
  /** Entries Berth cannot check nor install by name (URLs, paths, pip options): logged and skipped. */
  skipped: string[];
}

const NAME = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?\s*(.*)$/;

/** Parses a pip requirement line (`scikit-learn==1.2 ; python_version>"3"`). */
export function parsePipRequirement(line: string): PythonRequirement | undefined {
  const text = line.split(';')[0].trim();
  if (text === '' || /^(-|\.|\/|~)|:\/\//.test(text) || text.startsWith('git+')) return undefined;
  const m = NAME.exec(text);
  if (!m) return undefined;
  const extras = (m[2] ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const version = m[3].replace(/\s+/g, '');
  const pinned = /^==([^,*]+)$/.exec(version)?.[1];
  return { name: m[1], extras, pipSpec: m[1] + version, pinned, from: 'pip' };
}

/** Parses a conda dependency (`conda-forge::numpy=1.16=py36h_0`, `scikit-learn>=0.22`). */
export function parseCondaDependency(entry: string): PythonRequirement | undefined {
  const text = entry.replace(/^[^:\s]+::/, '').trim();
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*)$/.exec(text);
  if (!m) return undefined;
  const name = m[1];
  const version = m[2].replace(/\s+/g, '');
  let pipSpec = name;
  let pinned: string | undefined;
  if (/^=[^=]/.test(version)) {
    // conda `=1.16` means 1.16.* ; a second `=` starts a build string
    const v = version.slice(1).split('=')[0];
    pipSpec = v.endsWith('*') ? `${name}==${v}` : `${name}==${v}.*`;
    if (/^\d+(\.\d+){2,}$/.test(v)) pinned = v;
  } else if (/^==/.test(version)) {
    const v = version.slice(2).split('=')[0];
    pipSpec = `${name}==${v}`;
    pinned = v.includes('*') ? undefined : v;
  } else if (version !== '') {
    pipSpec = name + version;
  }
  return { name, extras: [], pipSpec, pinned, from: 'conda' };
}

/**
 * Reads a conda environment file (YAML: `dependencies:` with conda entries and a `pip:` list).
 * @throws PATH_NOT_FOUND when it cannot be read, INVALID_CONFIG when it is not such a YAML file.
 */
export function readCondaFile(path: string): CondaEnvironment {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new BerthError('PATH_NOT_FOUND', `The conda file "${path}" cannot be read.`, {
      hint: 'Check "condaFile" in the inference config (relative to sourceDirectory).',
      cause: err,
    });
  }
  return parseCondaFile(text, basename(path));
}

/** Parses the text of a conda environment file; `what` names it in errors. */
export function parseCondaFile(text: string, what: string): CondaEnvironment {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new BerthError(
      'INVALID_CONFIG',
      `The conda file ${what} is not valid YAML: ${(err as Error).message}`,
      {
        hint: 'A conda file looks like: dependencies: [python=3.11, scikit-learn, {pip: [inference-schema]}]',
        cause: err,
      },
    );
  }
  const env: CondaEnvironment = { requirements: [], skipped: [] };
  if (doc === null || doc === undefined) return env;
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new BerthError(
      'INVALID_CONFIG',
      `The conda file ${what} is not a YAML mapping with "dependencies".`,
    );
  }
  const deps = (doc as { dependencies?: unknown }).dependencies ?? [];
  if (!Array.isArray(deps)) {
    throw new BerthError('INVALID_CONFIG', `"dependencies" in the conda file ${what} must be a list.`);
  }
  for (const dep of deps) {
    if (typeof dep === 'string') {
      const req = parseCondaDependency(dep);
      if (!req) env.skipped.push(dep);
      else if (req.name.toLowerCase() === 'python') env.pythonVersion = /\d+(\.\d+)*/.exec(req.pipSpec)?.[0];
      else env.requirements.push(req);
    } else if (dep && typeof dep === 'object' && Array.isArray((dep as { pip?: unknown }).pip)) {
      for (const line of (dep as { pip: unknown[] }).pip) {
        const req = typeof line === 'string' ? parsePipRequirement(line) : undefined;
        if (req) env.requirements.push(req);
        else env.skipped.push(String(line));
      }
    } else {
      env.skipped.push(JSON.stringify(dep));
    }
  }
  return env;
}
