import { InvalidInputError, RolemapError } from '../../core/errors.js';

/**
 * A saved or approved plan that must not be applied as it is (exit 4): AWS changed since it was made,
 * it was edited, or it is not the plan the same directory and AWS state give now.
 */
export class SavedPlanRefusedError extends InvalidInputError {}

/**
 * `--plan FILE`: the actual state changed since the saved plan was made, so applying it exactly
 * could undo someone else's change or act on stale facts. Make a new plan.
 */
export class StalePlanError extends SavedPlanRefusedError {
  constructor(
    readonly savedDigest: string,
    readonly currentDigest: string,
    options?: { cause?: unknown },
  ) {
    super(`the saved plan is stale: AWS changed since it was made (actual state digest ${short(savedDigest)} then, ${short(currentDigest)} now); make a new plan and review it`, options);
  }
}

/** A saved plan whose hash does not match its content, or is not in the journal: not the plan rolemap saved. */
export class TamperedPlanError extends SavedPlanRefusedError {}

/** A saved plan whose changes differ from the plan the same directory and AWS state give now. */
export class PlanMismatchError extends SavedPlanRefusedError {}

/** A saved plan that does not belong to this configuration (another owner id). */
export class ForeignPlanError extends InvalidInputError {}

/** A change of a kind that no configured target handles: a wiring mistake, caught before anything is applied. */
export class NoTargetError extends RolemapError {
  readonly retryable = false;
}

function short(digest: string): string {
  return digest.length > 16 ? `${digest.slice(0, 12)}…` : digest;
}
