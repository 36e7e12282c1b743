import type { ResourceKind } from '../model/resources.js';
import type { Change, Plan } from '../plan/change.js';
import type { ApplyHooks, Target } from '../ports.js';

export interface ApplyOptions {
  /** Which target applies which kind. */
  readonly targetFor: (kind: ResourceKind) => Target;
  readonly hooks?: ApplyHooks | undefined;
  /** Independent changes in flight at once. */
  readonly concurrency?: number | undefined;
  /** Abort: the change in flight finishes, the rest are skipped. */
  readonly signal?: AbortSignal | undefined;
}

export interface ChangeResult {
  readonly change: Change;
  readonly status: 'applied' | 'failed' | 'skipped';
  readonly requestIds: readonly string[];
  readonly error?: string | undefined;
}

export interface ApplyReport {
  readonly results: readonly ChangeResult[];
  readonly applied: number;
  readonly failed: number;
  readonly skipped: number;
  readonly interrupted: boolean;
}

/**
 * Carries out a plan exactly: dependency order, bounded concurrency, hooks around each change;
 * a failed change stops only what depends on it. Returns a report even when partly done.
 */
export async function applyPlan(_plan: Plan, _options: ApplyOptions): Promise<ApplyReport> {
  throw new Error('not implemented yet');
}
