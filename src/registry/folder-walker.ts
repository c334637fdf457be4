import {
  closeSync,
  type Dirent,
  lstatSync,
  openSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  statSync,
} from 'node:fs';
import { basename, join, resolve, sep } from 'node:path';
import { BerthError } from '../core/errors.js';

/** One file found under the input path. */
export interface WalkedFile {
  /** Relative path inside the model, `/`-separated (the file name for a single file). */
  path: string;
  /** Where to read the bytes from. */
  absolutePath: string;
}

export interface ModelInput {
  kind: 'file' | 'folder';
  /** Sorted by `path` (UTF-8 byte order). */
  files: WalkedFile[];
}

/**
 * Lists the files to register from `inputPath`: the file itself, or every regular file under the
 * folder (relative layout kept). Symbolic links inside a folder are followed only when they resolve
 * inside it; a link to a folder is walked like a folder. Nothing is read beyond opening each file
 * once to prove it is readable.
 * @throws PATH_NOT_FOUND (missing, unreadable, broken link, not a regular file or folder),
 *   EMPTY_MODEL (a folder without files), UNSAFE_SYMLINK (a link leaving the folder, or a loop).
 */
export function walkModelInput(inputPath: string): ModelInput {
  const given = resolve(inputPath);
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(given);
  } catch (err) {
    throw unreadable(inputPath, err);
  }
  if (stat.isFile()) {
    assertReadable(given, inputPath);
    return { kind: 'file', files: [{ path: basename(given), absolutePath: given }] };
  }
  if (!stat.isDirectory()) throw notRegular(inputPath);
  const root = realpathSync(given);
  const files: WalkedFile[] = [];
  const visit = (dir: string, realDir: string, prefix: string, chain: Set<string>): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      throw unreadable(prefix ? `${inputPath}/${prefix}` : inputPath, err);
    }
    for (const entry of entries) {
      const abs = join(dir, entry.name);
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isSymbolicLink()) {
        let real: string;
        try {
          real = realpathSync(abs);
        } catch (err) {
          throw new BerthError(
            'PATH_NOT_FOUND',
            `"${rel}" in ${inputPath} is a symbolic link to a missing target.`,
            {
              hint: 'Remove the broken link or restore its target.',
              cause: err,
            },
          );
        }
        if (real !== root && !real.startsWith(root + sep)) {
          throw new BerthError(
            'UNSAFE_SYMLINK',
            `"${rel}" in ${inputPath} is a symbolic link to "${safeReadlink(abs)}", outside the model folder.`,
            {
              hint: 'Copy the target into the folder instead of linking to it.',
              details: { path: rel, target: real },
            },
          );
        }
        const target = lstatSync(real);
        if (target.isDirectory()) {
          if (chain.has(real) || real === root) {
            throw new BerthError(
              'UNSAFE_SYMLINK',
              `"${rel}" in ${inputPath} is a symbolic link that loops back to a parent folder.`,
              {
                hint: 'Remove the link.',
                details: { path: rel, target: real },
              },
            );
          }
          visit(real, real, rel, new Set(chain).add(real));
        } else if (target.isFile()) {
          assertReadable(abs, rel);
          files.push({ path: rel, absolutePath: abs });
        } else {
          throw notRegular(rel);
        }
      } else if (entry.isDirectory()) {
        const real = join(realDir, entry.name);
        visit(abs, real, rel, new Set(chain).add(real));
      } else if (entry.isFile()) {
        assertReadable(abs, rel);
        files.push({ path: rel, absolutePath: abs });
      } else {
        throw notRegular(rel);
      }
    }
  };
  visit(given, root, '', new Set([root]));
  if (files.length === 0) {
    throw new BerthError('EMPTY_MODEL', `The folder ${inputPath} holds no files.`, {
      hint: 'Point --path at the model file or at a folder that contains it.',
    });
  }
  files.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  return { kind: 'folder', files };
}

function assertReadable(absolutePath: string, shown: string): void {
  try {
    closeSync(openSync(absolutePath, 'r'));
  } catch (err) {
    throw unreadable(shown, err);
  }
}

function unreadable(shown: string, err: unknown): BerthError {
  const code = (err as NodeJS.ErrnoException).code;
  const message =
    code === 'ENOENT' || code === 'ENOTDIR'
      ? `Path "${shown}" does not exist.`
      : `Path "${shown}" cannot be read (${code ?? (err as Error).message}).`;
  return new BerthError('PATH_NOT_FOUND', message, {
    hint:
      code === 'ENOENT' || code === 'ENOTDIR'
        ? 'Check the path; a relative path is resolved from the current folder.'
        : 'Check its permissions.',
    cause: err,
  });
}

function notRegular(shown: string): BerthError {
  return new BerthError(
    'PATH_NOT_FOUND',
    `"${shown}" is not a regular file or folder (a device, socket or pipe).`,
    {
      hint: 'Register regular files only; remove special files from the folder.',
    },
  );
}

function safeReadlink(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '?';
  }
}
