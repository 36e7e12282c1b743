/** rolemap's exit codes; README.md and docs/cli.md document them. */
export const EXIT = {
  /** Success and nothing to change (or nothing was changed). */
  OK: 0,
  /** An error: bad config, unreachable directory or AWS, a failed change. */
  ERROR: 1,
  /** Changes present (dry run) or applied. */
  CHANGES: 2,
  /** The safety checks refused the plan (deletion threshold, directory too small). */
  REFUSED: 3,
  /** `--plan FILE`: the actual state changed since the plan was made. */
  STALE_PLAN: 4,
  /** Another rolemap holds the journal's lock. */
  LOCKED: 5,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Thrown by commands to end the process with a code; the top-level catch prints `message` when set. */
export class ExitError extends Error {
  constructor(readonly code: ExitCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? '', options);
    this.name = 'ExitError';
  }
}
