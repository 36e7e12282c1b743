/**
 * Small, honest implementations of the core's ports for shell tests: a directory source that
 * serves a fixed snapshot, an in-memory AWS target that really keeps state (so a second run sees
 * what the first applied), and a journal that remembers every call.
 */
import type { DirectorySnapshot } from '../../src/core/model/directory.js';
import type { Resource, ResourceKey, ResourceKind } from '../../src/core/model/resources.js';
import type { RoleMap } from '../../src/core/model/role-map.js';
import type { ActualState, Entitlement } from '../../src/core/model/state.js';
import type { Entitlements } from '../../src/core/model/entitlements.js';
import type { Change, Plan } from '../../src/core/plan/change.js';
import type { ApplyHooks, ApplyOutcome, DirectorySource, EntitlementHistory, GroupSelection, RunJournal, RunOutcome, RunStart, Target } from '../../src/core/ports.js';
import type { RunLogger } from '../../src/shell/reconcile/run-once.js';

export class FakeDirectorySource implements DirectorySource {
  readonly describe = 'fake:directory';
  readonly selections: GroupSelection[] = [];
  failWith: Error | null = null;
  constructor(public snapshot: DirectorySnapshot) {}
  async read(groups: GroupSelection): Promise<DirectorySnapshot> {
    this.selections.push(groups);
    if (this.failWith) throw this.failWith;
    return this.snapshot;
  }
}

/** An AWS target whose "AWS" is a Map: apply really changes what the next readActual returns. */
export class MemoryTarget implements Target {
  readonly resources = new Map<ResourceKey, Resource>();
  readonly applied: Change[] = [];
  readonly failOn = new Set<ResourceKey>();
  readFailure: Error | null = null;
  #requests = 0;

  constructor(
    readonly name: string,
    readonly kinds: readonly ResourceKind[],
    initial: readonly Resource[] = [],
  ) {
    for (const r of initial) this.resources.set(`${r.kind}:${r.id}`, r);
  }

  async readActual(_roleMap: RoleMap): Promise<ActualState> {
    if (this.readFailure) throw this.readFailure;
    return { resources: [...this.resources.values()].filter((r) => this.kinds.includes(r.kind)), warnings: [] };
  }

  async apply(change: Change): Promise<ApplyOutcome> {
    if (!this.kinds.includes(change.kind)) throw new Error(`${this.name} does not handle ${change.kind}`);
    if (this.failOn.has(change.key)) throw new Error(`AccessDenied: not allowed to change ${change.address}`);
    this.applied.push(change);
    if (change.after) this.resources.set(change.key, { ...change.after, owned: true, awsId: `aws-${change.key}` } as Resource);
    else this.resources.delete(change.key);
    this.#requests += 1;
    return { requestIds: [`req-${this.#requests}`] };
  }
}

export type JournalEvent =
  | { readonly type: 'startRun'; readonly run: RunStart }
  | { readonly type: 'recordPlan'; readonly runId: string; readonly plan: Plan }
  | { readonly type: 'preApply' | 'postApply' | 'applyFailed' | 'skipped'; readonly runId: string; readonly seq: number }
  | { readonly type: 'recordEntitlements'; readonly runId: string; readonly entitlements: readonly Entitlement[] }
  | { readonly type: 'finishRun'; readonly runId: string; readonly outcome: RunOutcome; readonly error?: string | undefined };

export class MemoryJournal implements RunJournal {
  readonly events: JournalEvent[] = [];
  last: readonly Entitlement[] | null = null;

  startRun(run: RunStart): void {
    this.events.push({ type: 'startRun', run });
  }
  recordPlan(runId: string, plan: Plan): void {
    this.events.push({ type: 'recordPlan', runId, plan });
  }
  hooks(runId: string): ApplyHooks {
    return {
      preApply: (c) => void this.events.push({ type: 'preApply', runId, seq: c.seq }),
      postApply: (c) => void this.events.push({ type: 'postApply', runId, seq: c.seq }),
      applyFailed: (c) => void this.events.push({ type: 'applyFailed', runId, seq: c.seq }),
      skipped: (c) => void this.events.push({ type: 'skipped', runId, seq: c.seq }),
    };
  }
  recordEntitlements(runId: string, _at: string, list: Entitlements): void {
    // As the journal stores them: a list of rows, whichever form it was handed.
    const entitlements = Array.from(list);
    this.last = entitlements;
    this.events.push({ type: 'recordEntitlements', runId, entitlements });
  }
  finishRun(runId: string, end: { readonly outcome: RunOutcome; readonly error?: string | undefined }): void {
    this.events.push({ type: 'finishRun', runId, outcome: end.outcome, error: end.error });
  }
  entitlementHistory(): EntitlementHistory {
    return { last: this.last };
  }
  readonly savedPlans = new Set<string>();
  recordSavedPlan(_runId: string, planHash: string, _changes?: number): void {
    this.savedPlans.add(planHash);
  }
  isPlanRecorded(planHash: string): boolean {
    return this.savedPlans.has(planHash);
  }
  types(): string[] {
    return this.events.map((e) => e.type);
  }
  /** The last run's end. */
  finish(): Extract<JournalEvent, { type: 'finishRun' }> | undefined {
    return this.events.findLast((e): e is Extract<JournalEvent, { type: 'finishRun' }> => e.type === 'finishRun');
  }
}

/** A logger that keeps its lines, with the bindings of its children merged in. */
export class MemoryLogger implements RunLogger {
  constructor(
    readonly lines: Array<Record<string, unknown>> = [],
    readonly bindings: Record<string, unknown> = {},
  ) {}
  #push(level: string, obj: object, msg?: string): void {
    this.lines.push({ level, ...this.bindings, ...obj, ...(msg !== undefined ? { msg } : {}) });
  }
  info(obj: object, msg?: string): void {
    this.#push('info', obj, msg);
  }
  warn(obj: object, msg?: string): void {
    this.#push('warn', obj, msg);
  }
  error(obj: object, msg?: string): void {
    this.#push('error', obj, msg);
  }
  child(bindings: object): RunLogger {
    return new MemoryLogger(this.lines, { ...this.bindings, ...bindings });
  }
}
