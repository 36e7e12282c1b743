/**
 * Errors in the configuration file. Every problem names the file, line and column and says what
 * is expected; one `ConfigError` carries all the problems found in one pass, so an operator fixes
 * them together instead of one run at a time.
 */
import { InvalidInputError } from '../../core/errors.js';

export interface ConfigIssue {
  readonly file: string;
  /** 1-based; 0 when the problem is with the file as a whole (cannot be read). */
  readonly line: number;
  readonly column: number;
  /** Dotted path of the offending key, e.g. `federatedRoles[2].account`; empty for the root. */
  readonly path: string;
  readonly message: string;
}

export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line > 0 ? `${issue.file}:${issue.line}:${issue.column}` : issue.file;
  return issue.path !== '' ? `${where}: ${issue.path}: ${issue.message}` : `${where}: ${issue.message}`;
}

export class ConfigError extends InvalidInputError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[], options?: { cause?: unknown }) {
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    super(`invalid configuration (${count}):\n${issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`, options);
    this.issues = issues;
  }
}

/** A secret reference that cannot be resolved at use time. Never carries the secret itself. */
export class SecretError extends InvalidInputError {}
