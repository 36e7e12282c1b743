/**
 * Secrets are referenced in the config and read only when used, so they never sit in a
 * `LoadedConfig`, a log line, a plan or the journal. Errors name the reference, never the value.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SecretError } from './config-error.js';
import type { SecretRef } from './types.js';

export function describeSecretRef(ref: SecretRef): string {
  if ('env' in ref) return `environment variable ${ref.env}`;
  if ('credential' in ref) return `systemd credential ${ref.credential}`;
  return `file ${ref.file}`;
}

/**
 * Where a systemd credential is: `$CREDENTIALS_DIRECTORY/<name>`, which systemd sets for a unit with
 * `LoadCredential=<name>:<path>` (the file readable by the service alone, never in the environment).
 */
export function credentialPath(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const dir = env['CREDENTIALS_DIRECTORY'];
  if (dir === undefined || dir === '') {
    throw new SecretError(`secret not available: systemd credential ${name} needs $CREDENTIALS_DIRECTORY, which systemd sets for a unit with LoadCredential=${name}:PATH`);
  }
  return join(dir, name);
}

/** Reads the secret now. Throws `SecretError` (never containing the value) when it is missing or empty. */
export function resolveSecret(ref: SecretRef, env: NodeJS.ProcessEnv = process.env): string {
  if ('env' in ref) {
    const value = env[ref.env];
    if (value === undefined) throw new SecretError(`secret not available: environment variable ${ref.env} is not set`);
    if (value === '') throw new SecretError(`secret not available: environment variable ${ref.env} is empty`);
    return value;
  }
  const file = 'credential' in ref ? credentialPath(ref.credential, env) : ref.file;
  const what = 'credential' in ref ? `systemd credential ${ref.credential} (${file})` : `file ${file}`;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new SecretError(`secret not available: cannot read ${what} (${code})`, { cause: e });
  }
  const value = text.replace(/\r?\n$/, '');
  if (value === '') throw new SecretError(`secret not available: ${what} is empty`);
  return value;
}
