/**
 * One reconciliation: read the directory and AWS, compute desired state and the plan, journal it,
 * and (unless dry run) apply it. The CLI's `reconcile` and the daemon both call this.
 * Everything it touches is injected, so tests run it with an LDIF source, the in-memory or
 * emulator-backed targets and a journal file.
 *
 * Dry run is stopping after the plan: nothing here passes a "dry run" flag to an adapter.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { applyPlan, type ApplyReport } from '../../core/apply/engine.js';
import { computeDesired } from '../../core/desired/desired.js';
import type { DirectoryUser, GroupRef, Guid } from '../../core/model/directory.js';
import type { Entitlements } from '../../core/model/entitlements.js';
import { grantsOf } from '../../core/model/entitlements.js';
import { groupRefKey } from '../../core/model/directory.js';
import type { ResourceKind } from '../../core/model/resources.js';
import type { RoleMap } from '../../core/model/role-map.js';
import type { ActualState, Entitlement, UnreadableScope, UnresolvedReference } from '../../core/model/state.js';
import type { Change, Plan } from '../../core/plan/change.js';
import { calculatePlan } from '../../core/plan/plan.js';
import { unpackEntitlements } from '../../core/plan/plan-entitlements.js';
import { DEFAULT_POLICIES } from '../../core/plan/policies.js';
import { applyReviewRevocations, reviewPolicy, standingRevocations } from '../../core/review/effect.js';
import type { DirectorySource, EntitlementHistory, GroupSelection, PrincipalAlias, RunJournal, RunMode, RunOutcome, RunTrigger, Target } from '../../core/ports.js';
import { VERSION } from '../version.js';
import { ForeignPlanError, NoTargetError, SavedPlanRefusedError } from './errors.js';
import { savedPlanTime, verifiedSavedPlan } from './saved-plan.js';

export interface Runtime {
  readonly roleMap: RoleMap;
  readonly source: DirectorySource;
  readonly targets: readonly Target[];
  /** Absent only in tests that do not journal. */
  readonly journal?: RunJournal | undefined;
  /** sha256 of the config file bytes, for the journal. */
  readonly configHash: string;
  readonly clock: () => Date;
  /** Structured logger (pino-compatible subset). */
  readonly log: RunLogger;
  /** Asked before each AWS mutation (the daemon's fencing, src/shell/ha/): a reason stops the apply. */
  readonly guard?: ((change: Change) => Promise<string | null>) | undefined;
}

export interface RunLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: object): RunLogger;
}

/** Whether `log` already carries this run id (pino's `bindings()`; a test logger's `bindings` record). */
function boundTo(log: RunLogger, runId: string): boolean {
  const b = (log as { bindings?: unknown }).bindings;
  const fields = typeof b === 'function' ? (b as () => unknown).call(log) : b;
  return typeof fields === 'object' && fields !== null && (fields as Record<string, unknown>)['runId'] === runId;
}

export interface RunOnceOptions {
  readonly mode: RunMode;
  readonly trigger: RunTrigger;
  /** Pre-assigned run id (the daemon assigns it so every log line carries it). */
  readonly runId?: string | undefined;
  readonly allowDeletes?: number | undefined;
  /** Operator approval of a refusal (daemon, `approve RUN`): the saved plan's refusal is lifted. */
  readonly approvedRefusal?: boolean | undefined;
  /**
   * `--plan FILE`, or the daemon's approved plan: apply exactly this plan, refusing (saved-plan.ts)
   * when AWS changed, when its hash is not the journal's, or when it is not the plan made now.
   */
  readonly savedPlan?: Plan | undefined;
  /** The `planHash` the saved plan's file carries (null: none); absent for a plan from the journal. */
  readonly savedPlanHash?: string | null | undefined;
  /** Told the plan as soon as it is made (and journaled), before any confirmation or apply: the CLI prints it here. */
  readonly onPlan?: ((plan: Plan, runId: string) => void | Promise<void>) | undefined;
  /** Asked before applying (TTY confirmation); absent means approved (auto-approve). */
  readonly confirm?: ((plan: Plan) => Promise<boolean>) | undefined;
  /** Stop: the AWS call in flight finishes, the rest are skipped, the run is interrupted. */
  readonly signal?: AbortSignal | undefined;
  /** Independent changes applied at once (the apply engine's default when absent). */
  readonly concurrency?: number | undefined;
  /** Changes not to attempt in this run (the daemon's per-change backoff): the reason, or null to apply. */
  readonly holdBack?: ((change: Change) => string | null) | undefined;
}

export interface RunResult {
  readonly runId: string;
  readonly plan: Plan;
  readonly report: ApplyReport | null;
  readonly outcome: RunOutcome;
  /** The confirmation was asked and declined: nothing was applied (outcome `planned`). */
  readonly declined?: boolean | undefined;
  /** What this run could not read (nothing was planned there): the daemon's /healthz says degraded. */
  readonly unreadable?: readonly UnreadableScope[] | undefined;
  /** Role-map group references the directory did not resolve (their state held): degraded too. */
  readonly unresolved?: readonly UnresolvedReference[] | undefined;
}

/**
 * The groups the role map names, for the directory source; with `history`, also the groups its last
 * entitlements came through (by objectGUID), so that a group renamed under a reference by name is
 * still read and can be named as the likely match (core/desired/unresolved.ts).
 */
export function groupSelection(roleMap: RoleMap, history?: EntitlementHistory): GroupSelection {
  const refs = new Map<string, GroupRef>();
  const add = (g: GroupRef): void => {
    refs.set(groupRefKey(g), g);
  };
  roleMap.federatedRoles.forEach((r) => add(r.group));
  roleMap.identityCenter?.assignments.forEach((a) => add(a.group));
  for (const guid of new Set(grantsOf(history?.last ?? []).map((g) => g.grant.viaGroupGuid))) add({ by: 'guid', value: guid });
  return { refs: [...refs.values()], namePatterns: roleMap.federatedRolePatterns.map((p) => p.regex) };
}

/**
 * Every target's actual state, merged. Targets read in parallel, each account on its own: what one
 * target or account could not read is returned as `unreadable` (nothing is planned there) and the
 * rest goes ahead. Only when every target fails does the read throw (the first error).
 */
export async function readActual(targets: readonly Target[], roleMap: RoleMap): Promise<ActualState> {
  const settled = await Promise.allSettled(targets.map((t) => t.readActual(roleMap)));
  const failed = settled.flatMap((r, i) => (r.status === 'rejected' ? [{ target: targets[i] as Target, error: r.reason as unknown }] : []));
  if (failed.length > 0 && failed.length === settled.length) throw failed[0]?.error;
  const states = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const scopes: UnreadableScope[] = [
    ...states.flatMap((s) => s.unreadable ?? []),
    ...failed.map((f) => ({ kinds: f.target.kinds, name: `the ${f.target.name} target`, reason: f.error instanceof Error ? f.error.message : String(f.error) })),
  ];
  // One account that two targets could not read (IAM roles and IAM users) is one scope.
  const byName = new Map<string, UnreadableScope>();
  for (const u of scopes) {
    const seen = byName.get(u.name);
    byName.set(u.name, seen ? { ...seen, kinds: [...new Set([...seen.kinds, ...u.kinds])] } : u);
  }
  const unreadable = [...byName.values()];
  return { resources: states.flatMap((s) => s.resources), warnings: states.flatMap((s) => s.warnings), ...(unreadable.length > 0 ? { unreadable } : {}) };
}

/** What a run could not see, in one line for the journal's run row and the log. */
export function degradedMessage(scopes: readonly UnreadableScope[]): string {
  return scopes.map((s) => `${s.name} could not be read: ${s.reason}`).join('; ');
}

/**
 * The former grants in scopes that could not be read stay in the entitlement history: their
 * leavers' revocations did not happen there, so the next run must still know them as leavers.
 */
function keepUnread(after: Entitlements, previous: Entitlements | null, scopes: readonly UnreadableScope[]): Entitlements {
  if (scopes.length === 0 || previous === null) return after;
  const unread = (e: Entitlement): boolean =>
    scopes.some((s) => (e.kind === 'iam_role' ? s.kinds.includes('iam_role') && (s.account === undefined || s.account === e.account) : s.kinds.includes('sso_account_assignment')));
  const keys = new Set(Array.from(after, entitlementKey));
  return [...after, ...Array.from(previous).filter((e) => unread(e) && !keys.has(entitlementKey(e)))];
}

/** kind -> target, from the targets' `kinds`; a kind claimed twice is a wiring mistake. */
export function targetResolver(targets: readonly Target[]): (kind: ResourceKind) => Target {
  const byKind = new Map<ResourceKind, Target>();
  for (const t of targets) {
    for (const k of t.kinds) {
      const other = byKind.get(k);
      if (other) throw new NoTargetError(`resource kind ${k} is claimed by two targets: ${other.name} and ${t.name}`);
      byKind.set(k, t);
    }
  }
  return (kind) => {
    const t = byKind.get(kind);
    if (!t) throw new NoTargetError(`no target applies resource kind ${kind} (targets: ${targets.map((x) => x.name).join(', ') || 'none'})`);
    return t;
  };
}

function hasChanges(plan: Plan): boolean {
  return plan.changes.length > 0;
}

function outcomeOf(report: ApplyReport): RunOutcome {
  if (report.interrupted) return 'interrupted';
  // A change held back (it kept failing) is as unfinished as a failed one.
  const unfinished = report.failed + report.results.filter((r) => r.held === true).length;
  if (unfinished > 0) return report.applied > 0 ? 'partial' : 'failed';
  return 'applied';
}

/**
 * The entitlements to journal after an apply: what the directory grants now (the fresh read's and, for a
 * saved or approved plan, those the plan was made from: someone who left in between must stay in the
 * history to be revoked next run), plus the former grants of everyone a change did not finish for (a
 * leaver's or mover's revocation that failed or was skipped, shared with others or not), so the next run
 * still sees what they lost and retries. A kept grant carries when it was last seen, so its existing
 * revocations still count as covering it.
 */
export function entitlementsAfter(now: Entitlements, planned: Entitlements, history: EntitlementHistory, report: ApplyReport): Entitlement[] {
  const unfinished = new Set<string>();
  for (const r of report.results) {
    if (r.status === 'applied') continue;
    if (r.change.leaver) unfinished.add(r.change.leaver.guid);
    for (const g of r.change.concerns ?? []) unfinished.add(g);
  }
  const out: Entitlement[] = [];
  const seen = new Set<string>();
  const add = (e: Entitlement): void => {
    const k = grantKey(e);
    if (seen.has(k)) return;
    seen.add(k);
    out.push(e);
  };
  for (const e of now) add(e);
  if (planned !== now) for (const e of planned) add(e);
  const at = history.at ?? undefined;
  for (const e of history.last ?? []) {
    if (!unfinished.has(e.userGuid)) continue;
    add(e.seenAt !== undefined || at === undefined ? e : { ...e, seenAt: at });
  }
  return out;
}

/** A grant, whoever's names it carries: one per user, account, kind, target and group. */
function grantKey(e: Entitlement): string {
  return [e.userGuid, e.account, e.kind, e.target, e.viaGroupGuid].join('\u0000');
}

function entitlementKey(e: Entitlement): string {
  return [e.userGuid, e.account, e.kind, e.target, e.viaGroupGuid, e.userName, e.viaGroupName, e.userPrincipalName ?? '', e.mail ?? '', e.seenAt ?? ''].join('\u0000');
}

function sameEntitlements(a: Entitlements, b: Entitlements | null): boolean {
  if (b === null || a.length !== b.length) return false;
  const keys = new Set(Array.from(a, entitlementKey));
  for (const e of b) if (!keys.has(entitlementKey(e))) return false;
  return true;
}

/** The UPN and mail of everyone who holds access, so the journal can find a person by either. */
function aliasesOf(entitlements: Entitlements, users: readonly DirectoryUser[]): PrincipalAlias[] {
  const holders = new Set<Guid>();
  for (const { holders: hs } of grantsOf(entitlements)) for (const h of hs) holders.add(h.userGuid);
  const out: PrincipalAlias[] = [];
  for (const u of users) {
    if (!holders.has(u.guid)) continue;
    if (u.userPrincipalName) out.push({ alias: u.userPrincipalName, guid: u.guid });
    if (u.mail && u.mail !== u.userPrincipalName) out.push({ alias: u.mail, guid: u.guid });
  }
  return out;
}

export async function runOnce(runtime: Runtime, options: RunOnceOptions): Promise<RunResult> {
  const runId = options.runId ?? randomUUID();
  // The daemon hands down a logger already bound to this run: binding again would print runId twice.
  const log = boundTo(runtime.log, runId) ? runtime.log : runtime.log.child({ runId });
  const { journal, roleMap } = runtime;
  const iso = (): string => runtime.clock().toISOString();
  let directoryCounts: { users: number; groups: number } | undefined;
  let finished = false;
  const finish = (outcome: RunOutcome, error?: string): void => {
    finished = true;
    journal?.finishRun(runId, { outcome, finishedAt: iso(), ...(error !== undefined ? { error } : {}), ...(directoryCounts ? { directory: directoryCounts } : {}) });
    // The journal's chain head goes to the log too: a copy outside the database that an edit of the
    // database cannot rewrite (journald, a log shipper), against which `journal verify` can be checked.
    const head = journal?.chainHead?.() ?? null;
    log.info({ outcome, ...(error !== undefined ? { error } : {}), ...(head ? { journalChainHead: head } : {}) }, 'run finished');
  };

  journal?.startRun({ runId, trigger: options.trigger, mode: options.mode, host: hostname(), pid: process.pid, version: VERSION, configHash: runtime.configHash, startedAt: iso() });
  log.info({ mode: options.mode, trigger: options.trigger, source: runtime.source.describe, targets: runtime.targets.map((t) => t.name) }, 'run started');

  try {
    const targetFor = targetResolver(runtime.targets);
    const saved = options.savedPlan;
    if (saved && saved.ownerId !== roleMap.safety.ownerId) {
      throw new ForeignPlanError(`the saved plan was made for owner id ${saved.ownerId}, but this configuration's owner id is ${roleMap.safety.ownerId}`);
    }
    // The names a renamed leaver's live sessions may carry reach back from the plan's time (a saved plan's own).
    const history = journal?.entitlementHistory(options.savedPlan ? savedPlanTime(options.savedPlan) : runtime.clock()) ?? { last: null };
    const snapshot = await runtime.source.read(groupSelection(roleMap, history));
    // Known from here on, so a run interrupted or failing later still records what it read.
    directoryCounts = { users: snapshot.users.length, groups: snapshot.groups.length };
    log.info(directoryCounts, 'directory read');
    const actual = await readActual(runtime.targets, roleMap);
    log.info({ resources: actual.resources.length, warnings: actual.warnings.length }, 'actual state read');
    for (const w of actual.warnings) log.warn({ warning: w }, 'target warning');
    const unreadable = actual.unreadable ?? [];
    const degraded: { unreadable?: readonly UnreadableScope[]; unresolved?: readonly UnresolvedReference[] } = unreadable.length > 0 ? { unreadable } : {};
    for (const u of unreadable) log.error({ unreadable: u.name, kinds: u.kinds, error: u.reason }, `${u.name} could not be read; nothing is planned there this run`);
    // A run that could not read everything ends `partial`, naming what it could not read.
    const partly = (outcome: RunOutcome): RunOutcome => (unreadable.length > 0 && (outcome === 'applied' || outcome === 'no-changes') ? 'partial' : outcome);
    const partError = unreadable.length > 0 ? degradedMessage(unreadable) : undefined;

    // A saved plan is re-planned at its own time: the same directory and AWS state give the same plan.
    const now = saved ? savedPlanTime(saved) : runtime.clock();
    // Access reviews: grants revoked in a review leave the desired state even while AD still gives them (core/review/effect.ts).
    const desired = applyReviewRevocations(computeDesired(snapshot, roleMap, now, history), standingRevocations(journal?.reviewCampaigns?.() ?? [], now));
    for (const r of desired.reviewRevocations ?? []) log.warn({ user: r.entitlement.userName, target: r.entitlement.target, groups: r.groups }, `${r.reason}: remove the AD membership`);
    directoryCounts = { users: desired.directory.users, groups: desired.directory.groups };
    Object.assign(degraded, desired.unresolved !== undefined ? { unresolved: desired.unresolved } : {});
    const fresh = calculatePlan({ desired, actual, roleMap, now, policies: [reviewPolicy, ...DEFAULT_POLICIES], allowDeletes: options.allowDeletes, approvedRefusal: saved ? undefined : options.approvedRefusal });

    const plan = saved
      ? verifiedSavedPlan({ saved, fresh, carriedHash: options.savedPlanHash, journal, approved: options.approvedRefusal === true })
      : fresh;
    journal?.recordPlan(runId, plan);
    log.info({ ...plan.summary, changes: plan.changes.length, refused: plan.refusal?.code ?? null }, 'plan made');
    await options.onPlan?.(plan, runId);

    if (plan.refusal) {
      log.warn({ refusal: plan.refusal.code }, plan.refusal.message);
      finish('refused', plan.refusal.message);
      return { runId, plan, report: null, outcome: 'refused', ...degraded };
    }
    if (options.mode === 'dry-run') {
      const outcome = hasChanges(plan) ? 'planned' : 'no-changes';
      finish(outcome, partError);
      return { runId, plan, report: null, outcome, ...degraded };
    }
    if (!hasChanges(plan)) {
      // AWS already matches, yet who holds what may have changed inside AD (a new member of a mapped
      // group needs no AWS change): remember it, or a later leaver would have no former grants to revoke.
      const now2 = keepUnread(desired.entitlements, history.last, unreadable);
      if (!options.savedPlan && !sameEntitlements(now2, history.last)) journal?.recordEntitlements(runId, iso(), now2, aliasesOf(now2, snapshot.users));
      finish(partly('no-changes'), partError);
      return { runId, plan, report: null, outcome: partly('no-changes'), ...degraded };
    }
    // Every change must have a target before the first one runs.
    for (const kind of new Set(plan.changes.map((c) => c.kind))) targetFor(kind);
    if (options.confirm && !(await options.confirm(plan))) {
      log.info({}, 'apply declined');
      finish('planned', 'apply declined at the confirmation prompt');
      return { runId, plan, report: null, outcome: 'planned', declined: true };
    }
    if (options.signal?.aborted) {
      finish('interrupted');
      return { runId, plan, report: null, outcome: 'interrupted' };
    }

    const report = await applyPlan(plan, { targetFor, hooks: journal?.hooks(runId), signal: options.signal, concurrency: options.concurrency, hold: options.holdBack, guard: runtime.guard });
    const outcome = partly(outcomeOf(report));
    if (report.haltedBy !== undefined) log.error({ haltedBy: report.haltedBy }, `the apply stopped: ${report.haltedBy}`);
    log.info({ applied: report.applied, failed: report.failed, skipped: report.skipped, interrupted: report.interrupted }, 'plan applied');
    if (report.applied > 0) {
      const planned = plan === fresh || plan.entitlements === undefined ? desired.entitlements : unpackEntitlements(plan.entitlements);
      const after = keepUnread(entitlementsAfter(desired.entitlements, planned, history, report), history.last, unreadable);
      journal?.recordEntitlements(runId, iso(), after, aliasesOf(after, snapshot.users));
    }
    finish(outcome, report.haltedBy ?? partError);
    return { runId, plan, report, outcome, ...degraded };
  } catch (e) {
    // Not logged here: the error is rethrown, and whoever catches it says it once (the CLI prints
    // `Error: ...`, the daemon logs `run failed`); logging it here too printed every error twice.
    const message = e instanceof Error ? e.message : String(e);
    if (!finished) {
      try {
        finish(e instanceof SavedPlanRefusedError || e instanceof ForeignPlanError ? 'refused' : 'failed', message);
      } catch (journalError) {
        // The run's own error matters more; the journal's is logged.
        log.error({ error: journalError instanceof Error ? journalError.message : String(journalError) }, 'journal could not record the failed run');
      }
    }
    throw e;
  }
}
