/**
 * The root of rolemap's typed errors. Every error says whether it is worth a retry
 * (a throttled or dropped call) or terminal (bad config, a refused plan), and keeps its `cause`.
 * Subclasses live with what throws them (config loader, directory source, AWS targets, journal);
 * the CLI's one top-level catch turns them into exit codes.
 */
export abstract class RolemapError extends Error {
  abstract readonly retryable: boolean;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input that cannot be used: a config, a role map, a saved plan, directory data. Never retried. */
export class InvalidInputError extends RolemapError {
  readonly retryable = false;
}
