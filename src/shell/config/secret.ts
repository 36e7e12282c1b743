/**
 * Secrets are referenced in the config and read only when used, so they never sit in a
 * `LoadedConfig`, a log line, a plan or the journal. Errors name the reference, never the value.
 */
import { readFileSync } from 'node:fs';
import { SecretError } from './config-error.js';
import type { SecretRef } from './types.js';

export function describeSecretRef(ref: SecretRef): string {
  return 'env' in ref ? `environment variable ${ref.env}` : `file ${ref.file}`;
}

/** Reads the secret now. Throws `SecretError` (never containing the value) when it is missing or empty. */
export function resolveSecret(ref: SecretRef, env: NodeJS.ProcessEnv = process.env): string {
  if ('env' in ref) {
    const value = env[ref.env];
    if (value === undefined) throw new SecretError(`secret not available: environment variable ${ref.env} is not set`);
    if (value === '') throw new SecretError(`secret not available: environment variable ${ref.env} is empty`);
    return value;
  }
  let text: string;
  try {
    text = readFileSync(ref.file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new SecretError(`secret not available: cannot read file ${ref.file} (${code})`, { cause: e });
  }
  const value = text.replace(/\r?\n$/, '');
  if (value === '') throw new SecretError(`secret not available: file ${ref.file} is empty`);
  return value;
}
