import { createHash } from 'node:crypto';
import {
  copyFileSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
} from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { BerthError } from '../../core/errors.js';

/** One copied file: its path relative to the copied root (with `/`), sha256 and size. */
export interface CopiedFile {
  path: string;
  sha256: string;
  size: number;
}

const SKIPPED = new Set(['node_modules', '.git', '__pycache__', '.pytest_cache', '.berth']);

/**
 * Copies a file or a folder (recursively) to `to`, hashing every file. A single file lands as
 * `to/<basename>`. Folders named node_modules, .git, __pycache__ or .berth are skipped when
 * `skipBuildFolders` is set (code folders), never in model folders.
 * @throws PATH_NOT_FOUND when `from` is missing; UNSAFE_SYMLINK for a link leading outside `from`.
 */
export function copyTree(
  from: string,
  to: string,
  options: { skipBuildFolders?: boolean } = {},
): CopiedFile[] {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(from);
  } catch (cause) {
    throw new BerthError('PATH_NOT_FOUND', `Cannot read "${from}".`, { hint: 'Check the path.', cause });
  }
  const files: CopiedFile[] = [];
  mkdirSync(to, { recursive: true });
  if (st.isFile()) {
    const name = from.split(sep).pop() as string;
    files.push(copyOne(from, join(to, name), name));
    return files;
  }
  const root = realpathSync(from);
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const abs = join(dir, name);
      const lst = lstatSync(abs);
      if (lst.isDirectory() && options.skipBuildFolders && SKIPPED.has(name)) continue;
      if (lst.isSymbolicLink()) {
        const real = realpathSync(abs);
        if (relative(root, real).startsWith('..')) {
          throw new BerthError('UNSAFE_SYMLINK', `"${abs}" links outside "${from}".`, {
            hint: 'Replace the link by the file it points to.',
          });
        }
      }
      const s = statSync(abs);
      if (s.isDirectory()) walk(abs);
      else if (s.isFile()) {
        const rel = relative(root, abs).split(sep).join('/');
        files.push(copyOne(abs, join(to, rel), rel));
      }
    }
  };
  walk(root);
  return files;
}

function copyOne(from: string, to: string, rel: string): CopiedFile {
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
  const bytes = readFileSync(to);
  return { path: rel, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
}

/** sha256 of a folder model as the registry computes it: of the sorted "path\0sha256\n" lines. */
export function folderSha256(files: readonly CopiedFile[]): string {
  const lines = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const h = createHash('sha256');
  for (const f of lines) h.update(`${f.path}\0${f.sha256}\n`);
  return h.digest('hex');
}
