/**
 * Checks, before anything is read from the directory or AWS, that the files a command will write can
 * be written: the journal (and its lock beside it) and a `--plan-out` file. A mistake in a path is
 * then one clear line naming the setting and the folder, instead of a stack trace after the plan.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InvalidInputError } from '../../core/errors.js';

/** Why `file` cannot be created or written here, or null when it can. `what` names the setting. */
export function whyNotWritable(file: string, what: string): string | null {
  const path = resolve(file);
  const dir = dirname(path);
  let st: ReturnType<typeof statSync> | undefined;
  try {
    st = statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return `${what} ${path}: cannot be checked (${(e as NodeJS.ErrnoException).code ?? String(e)})`;
  }
  if (st?.isDirectory() === true) return `${what} ${path} is a folder: give a file path`;
  let dirStat: ReturnType<typeof statSync>;
  try {
    dirStat = statSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT'
      ? `${what} ${path}: the folder ${dir} does not exist (create it first, e.g. install -d -m 0750 ${dir})`
      : `${what} ${path}: the folder ${dir} cannot be read (${code ?? String(e)})`;
  }
  if (!dirStat.isDirectory()) return `${what} ${path}: ${dir} is not a folder`;
  try {
    accessSync(st === undefined ? dir : path, constants.W_OK);
  } catch {
    return `${what} ${path}: ${st === undefined ? `the folder ${dir}` : 'the file'} is not writable by this user`;
  }
  return null;
}

/** Throws an InvalidInputError (exit 1, one line) when `file` cannot be written. */
export function assertWritable(file: string, what: string): void {
  const why = whyNotWritable(file, what);
  if (why !== null) throw new InvalidInputError(why);
}
