/**
 * The apply engine: carries out a plan exactly as it was made. Changes run in dependency order,
 * independent ones with bounded concurrency; hooks (the journal) wrap each change synchronously;
 * a failed change skips only what depends on it, transitively; an abort lets in-flight changes
 * finish and skips the rest. The report comes back even when the run was partial.
 */
import { RolemapError } from '../errors.js';
import type { ResourceKind } from '../model/resources.js';
import type { Change, Plan } from '../plan/change.js';
import type { ApplyHooks, ApplyOutcome, Target } from '../ports.js';
import { MinHeap } from '../plan/min-heap.js';

export interface ApplyOptions {
  /** Which target applies which kind. */
  readonly targetFor: (kind: ResourceKind) => Target;
  readonly hooks?: ApplyHooks | undefined;
  /** Independent changes in flight at once (default 4). */
  readonly concurrency?: number | undefined;
  /** Abort: the changes in flight finish, the rest are skipped. */
  readonly signal?: AbortSignal | undefined;
  /** A change held back (the daemon backs off a change that keeps failing): skipped with this reason, its dependents with it. */
  readonly hold?: ((change: Change) => string | null) | undefined;
  /**
   * Asked before each change starts, before its intent row (the shell's fencing: is the lease still
   * ours?). A reason (or a throw) stops the run: this change and every one not started are skipped
   * with it, the run is interrupted; changes already in flight finish.
   */
  readonly guard?: ((change: Change) => Promise<string | null>) | undefined;
}

export interface ChangeResult {
  readonly change: Change;
  readonly status: 'applied' | 'failed' | 'skipped';
  readonly requestIds: readonly string[];
  readonly error?: string | undefined;
  /** Skipped because `hold` held it back (not attempted in this run). */
  readonly held?: boolean | undefined;
}

export interface ApplyReport {
  /** One result per change, in seq order. */
  readonly results: readonly ChangeResult[];
  readonly applied: number;
  readonly failed: number;
  readonly skipped: number;
  /** The run was stopped (abort signal, or a hook that failed): changes not started are skipped. */
  readonly interrupted: boolean;
  /** Set when a hook (the journal) failed or the guard stopped the run (fencing): why the run stopped early. */
  readonly haltedBy?: string | undefined;
  /** Why targets stopped sending (an endpoint that stopped answering), each cause once, with how many changes it kept back. */
  readonly unavailable?: readonly { readonly cause: string; readonly changes: number }[] | undefined;
}

/** A refused plan (deletion threshold, directory too small) is never applied. */
export class PlanRefusedError extends RolemapError {
  readonly retryable = false;
  constructor(readonly refusal: NonNullable<Plan['refusal']>) {
    super(`The plan was refused (${refusal.code}) and cannot be applied: ${refusal.message}`);
  }
}

export const DEFAULT_CONCURRENCY = 4;

export async function applyPlan(plan: Plan, options: ApplyOptions): Promise<ApplyReport> {
  if (plan.refusal !== null) throw new PlanRefusedError(plan.refusal);
  const hooks = options.hooks ?? {};
  const limit = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
  const changes = [...plan.changes].sort((a, b) => a.seq - b.seq);
  const bySeq = new Map(changes.map((c) => [c.seq, c]));
  const results = new Map<number, ChangeResult>();
  const dependents = new Map<number, number[]>();
  const waiting = new Map<number, number>();
  for (const c of changes) {
    waiting.set(c.seq, c.dependsOn.length);
    for (const d of c.dependsOn) {
      const list = dependents.get(d);
      if (list) list.push(c.seq);
      else dependents.set(d, [c.seq]);
    }
  }
  let haltedBy: string | undefined;
  const skip = (change: Change, why: string): ChangeResult => {
    try {
      hooks.skipped?.(change, why);
    } catch (error) {
      haltedBy ??= `skipped hook failed on #${change.seq} ${change.address}: ${error instanceof Error ? error.message : String(error)}`;
    }
    return { change, status: 'skipped', requestIds: [], error: why };
  };

  const skipDependents = (seq: number, why: string): void => {
    const stack = [...(dependents.get(seq) ?? [])];
    while (stack.length > 0) {
      const s = stack.pop() as number;
      if (results.has(s)) continue;
      results.set(s, skip(bySeq.get(s) as Change, why));
      stack.push(...(dependents.get(s) ?? []));
    }
  };

  // The lowest ready seq runs first. A heap, not a list sorted at each start: 100,000 independent
  // changes (a first run) made that quadratic, seconds of CPU per 10,000 changes.
  const ready = new MinHeap();
  for (const c of changes) {
    // A dependency that is not in the plan can never be satisfied: the change and its dependents are skipped.
    const missing = c.dependsOn.find((d) => !bySeq.has(d) || d >= c.seq);
    const held = results.has(c.seq) ? null : (options.hold?.(c) ?? null);
    if (held !== null) {
      results.set(c.seq, { ...skip(c, held), held: true });
      skipDependents(c.seq, `#${c.seq} ${c.address} is held back`);
    } else if (missing !== undefined) {
      if (results.has(c.seq)) continue;
      results.set(c.seq, skip(c, `depends on #${missing}, which is not before it in the plan`));
      skipDependents(c.seq, `#${c.seq} ${c.address} was skipped`);
    } else if (c.dependsOn.length === 0) ready.push(c.seq);
  }

  let interrupted = false;
  const held = new Map<string, number>();
  const inFlight = new Set<Promise<void>>();
  const run = async (c: Change): Promise<void> => {
    // A target whose endpoint stopped answering is not sent more: the change is skipped with the cause.
    const down = options.targetFor(c.kind).unavailable?.(c);
    if (down !== undefined) {
      held.set(down, (held.get(down) ?? 0) + 1);
      results.set(c.seq, skip(c, down));
      skipDependents(c.seq, `depends on a change that was not sent (${down})`);
      return;
    }
    if (options.guard !== undefined) {
      let stop: string | null;
      try {
        stop = haltedBy ?? (await options.guard(c));
      } catch (error) {
        stop = `the guard failed: ${error instanceof Error ? error.message : String(error)}`;
      }
      if (stop !== null) {
        haltedBy ??= stop;
        results.set(c.seq, skip(c, stop));
        skipDependents(c.seq, `not started: ${stop}`);
        return;
      }
    }
    // The journal's intent row must be written before AWS is touched: if it cannot be, nothing more runs.
    try {
      hooks.preApply?.(c);
    } catch (error) {
      haltedBy = `preApply hook failed on #${c.seq} ${c.address}: ${error instanceof Error ? error.message : String(error)}`;
      results.set(c.seq, { change: c, status: 'failed', requestIds: [], error: haltedBy });
      skipDependents(c.seq, `#${c.seq} ${c.address} failed`);
      return;
    }
    let outcome: ApplyOutcome;
    try {
      outcome = await options.targetFor(c.kind).apply(c, options.signal);
    } catch (error) {
      const requestId = (error as { requestId?: unknown } | null)?.requestId;
      results.set(c.seq, {
        change: c,
        status: 'failed',
        requestIds: typeof requestId === 'string' ? [requestId] : [],
        error: error instanceof Error ? error.message : String(error),
      });
      try {
        hooks.applyFailed?.(c, error);
      } catch (hookError) {
        haltedBy = `applyFailed hook failed on #${c.seq} ${c.address}: ${hookError instanceof Error ? hookError.message : String(hookError)}`;
      }
      skipDependents(c.seq, `#${c.seq} ${c.address} failed`);
      return;
    }
    results.set(c.seq, { change: c, status: 'applied', requestIds: outcome.requestIds });
    try {
      hooks.postApply?.(c, outcome);
    } catch (error) {
      // Applied in AWS but not recorded: stop here so the journal and AWS drift apart no further.
      haltedBy = `postApply hook failed on #${c.seq} ${c.address} (the change itself was applied): ${error instanceof Error ? error.message : String(error)}`;
    }
    for (const d of dependents.get(c.seq) ?? []) {
      const left = (waiting.get(d) as number) - 1;
      waiting.set(d, left);
      if (left === 0 && !results.has(d)) ready.push(d);
    }
  };

  for (;;) {
    if (options.signal?.aborted || haltedBy !== undefined) interrupted = true;
    while (!interrupted && inFlight.size < limit && ready.size > 0) {
      const c = bySeq.get(ready.pop()) as Change;
      if (results.has(c.seq)) continue;
      const p: Promise<void> = run(c).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    if (inFlight.size === 0) break;
    await Promise.race(inFlight);
  }

  for (const c of changes) {
    if (!results.has(c.seq)) results.set(c.seq, skip(c, haltedBy !== undefined ? `not started: ${haltedBy}` : interrupted ? 'the run was interrupted before this change started' : 'not reached'));
  }
  const ordered = changes.map((c) => results.get(c.seq) as ChangeResult);
  return {
    results: ordered,
    applied: ordered.filter((r) => r.status === 'applied').length,
    failed: ordered.filter((r) => r.status === 'failed').length,
    skipped: ordered.filter((r) => r.status === 'skipped').length,
    interrupted,
    haltedBy,
    ...(held.size > 0 ? { unavailable: [...held].map(([cause, n]) => ({ cause, changes: n })) } : {}),
  };
}
