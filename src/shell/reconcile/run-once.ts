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
import type { DirectoryUser, GroupRef } from '../../core/model/directory.js';
import { groupRefKey } from '../../core/model/directory.js';
import type { ResourceKind } from '../../core/model/resources.js';
import type { RoleMap } from '../../core/model/role-map.js';
import type { ActualState, Entitlement } from '../../core/model/state.js';
import type { Plan } from '../../core/plan/change.js';
import { calculatePlan } from '../../core/plan/plan.js';
import { unpackEntitlements } from '../../core/plan/plan-entitlements.js';
import type { DirectorySource, EntitlementHistory, GroupSelection, PrincipalAlias, RunJournal, RunMode, RunOutcome, RunTrigger, Target } from '../../core/ports.js';
import { VERSION } from '../version.js';
import { ForeignPlanError, NoTargetError, StalePlanError } from './errors.js';

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
  /** Operator approval of a refusal (daemon, `approve RUN`). */
  readonly approvedRefusal?: boolean | undefined;
  /** `--plan FILE`: apply exactly this plan, refusing when the actual state changed. */
  readonly savedPlan?: Plan | undefined;
  /** Told the plan as soon as it is made (and journaled), before any confirmation or apply: the CLI prints it here. */
  readonly onPlan?: ((plan: Plan, runId: string) => void | Promise<void>) | undefined;
  /** Asked before applying (TTY confirmation); absent means approved (auto-approve). */
  readonly confirm?: ((plan: Plan) => Promise<boolean>) | undefined;
  /** Stop: the AWS call in flight finishes, the rest are skipped, the run is interrupted. */
  readonly signal?: AbortSignal | undefined;
  /** Independent changes applied at once (the apply engine's default when absent). */
  readonly concurrency?: number | undefined;
}

export interface RunResult {
  readonly runId: string;
  readonly plan: Plan;
  readonly report: ApplyReport | null;
  readonly outcome: RunOutcome;
  /** The confirmation was asked and declined: nothing was applied (outcome `planned`). */
  readonly declined?: boolean | undefined;
}

/** The groups the role map names, for the directory source. */
export function groupSelection(roleMap: RoleMap): GroupSelection {
  const refs = new Map<string, GroupRef>();
  const add = (g: GroupRef): void => {
    refs.set(groupRefKey(g), g);
  };
  roleMap.federatedRoles.forEach((r) => add(r.group));
  roleMap.identityCenter?.assignments.forEach((a) => add(a.group));
  return { refs: [...refs.values()], namePatterns: roleMap.federatedRolePatterns.map((p) => p.regex) };
}

/** Every target's actual state, merged. Targets read in parallel; one failure fails the read. */
export async function readActual(targets: readonly Target[], roleMap: RoleMap): Promise<ActualState> {
  const states = await Promise.all(targets.map((t) => t.readActual(roleMap)));
  return { resources: states.flatMap((s) => s.resources), warnings: states.flatMap((s) => s.warnings) };
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
  if (report.failed > 0) return report.applied > 0 ? 'partial' : 'failed';
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
export function entitlementsAfter(now: readonly Entitlement[], planned: readonly Entitlement[], history: EntitlementHistory, report: ApplyReport): Entitlement[] {
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
  now.forEach(add);
  if (planned !== now) planned.forEach(add);
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

function sameEntitlements(a: readonly Entitlement[], b: readonly Entitlement[] | null): boolean {
  if (b === null || a.length !== b.length) return false;
  const keys = new Set(a.map(entitlementKey));
  return b.every((e) => keys.has(entitlementKey(e)));
}

/** The UPN and mail of everyone who holds access, so the journal can find a person by either. */
function aliasesOf(entitlements: readonly Entitlement[], users: readonly DirectoryUser[]): PrincipalAlias[] {
  const holders = new Set(entitlements.map((e) => e.userGuid));
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

  journal?.startRun({ runId, trigger: options.trigger, mode: options.mode, host: hostname(), version: VERSION, configHash: runtime.configHash, startedAt: iso() });
  log.info({ mode: options.mode, trigger: options.trigger, source: runtime.source.describe, targets: runtime.targets.map((t) => t.name) }, 'run started');

  try {
    const targetFor = targetResolver(runtime.targets);
    const saved = options.savedPlan;
    if (saved && saved.ownerId !== roleMap.safety.ownerId) {
      throw new ForeignPlanError(`the saved plan was made for owner id ${saved.ownerId}, but this configuration's owner id is ${roleMap.safety.ownerId}`);
    }
    const snapshot = await runtime.source.read(groupSelection(roleMap));
    // Known from here on, so a run interrupted or failing later still records what it read.
    directoryCounts = { users: snapshot.users.length, groups: snapshot.groups.length };
    log.info(directoryCounts, 'directory read');
    const actual = await readActual(runtime.targets, roleMap);
    log.info({ resources: actual.resources.length, warnings: actual.warnings.length }, 'actual state read');
    for (const w of actual.warnings) log.warn({ warning: w }, 'target warning');

    const now = runtime.clock();
    const history = journal?.entitlementHistory() ?? { last: null };
    const desired = computeDesired(snapshot, roleMap, now, history);
    directoryCounts = { users: desired.directory.users, groups: desired.directory.groups };
    const fresh = calculatePlan({ desired, actual, roleMap, now, allowDeletes: options.allowDeletes, approvedRefusal: options.approvedRefusal });

    let plan = fresh;
    if (saved) {
      if (saved.actualDigest !== fresh.actualDigest) throw new StalePlanError(saved.actualDigest, fresh.actualDigest);
      plan = saved;
    }
    journal?.recordPlan(runId, plan);
    log.info({ ...plan.summary, changes: plan.changes.length, refused: plan.refusal?.code ?? null }, 'plan made');
    await options.onPlan?.(plan, runId);

    if (plan.refusal) {
      log.warn({ refusal: plan.refusal.code }, plan.refusal.message);
      finish('refused', plan.refusal.message);
      return { runId, plan, report: null, outcome: 'refused' };
    }
    if (options.mode === 'dry-run') {
      const outcome = hasChanges(plan) ? 'planned' : 'no-changes';
      finish(outcome);
      return { runId, plan, report: null, outcome };
    }
    if (!hasChanges(plan)) {
      // AWS already matches, yet who holds what may have changed inside AD (a new member of a mapped
      // group needs no AWS change): remember it, or a later leaver would have no former grants to revoke.
      if (!options.savedPlan && !sameEntitlements(desired.entitlements, history.last)) journal?.recordEntitlements(runId, iso(), desired.entitlements, aliasesOf(desired.entitlements, snapshot.users));
      finish('no-changes');
      return { runId, plan, report: null, outcome: 'no-changes' };
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

    const report = await applyPlan(plan, { targetFor, hooks: journal?.hooks(runId), signal: options.signal, concurrency: options.concurrency });
    const outcome = outcomeOf(report);
    log.info({ applied: report.applied, failed: report.failed, skipped: report.skipped, interrupted: report.interrupted }, 'plan applied');
    if (report.applied > 0) {
      const planned = plan === fresh || plan.entitlements === undefined ? desired.entitlements : unpackEntitlements(plan.entitlements);
      const after = entitlementsAfter(desired.entitlements, planned, history, report);
      journal?.recordEntitlements(runId, iso(), after, aliasesOf(after, snapshot.users));
    }
    finish(outcome);
    return { runId, plan, report, outcome };
  } catch (e) {
    // Not logged here: the error is rethrown, and whoever catches it says it once (the CLI prints
    // `Error: ...`, the daemon logs `run failed`); logging it here too printed every error twice.
    const message = e instanceof Error ? e.message : String(e);
    if (!finished) {
      try {
        finish(e instanceof StalePlanError || e instanceof ForeignPlanError ? 'refused' : 'failed', message);
      } catch (journalError) {
        // The run's own error matters more; the journal's is logged.
        log.error({ error: journalError instanceof Error ? journalError.message : String(journalError) }, 'journal could not record the failed run');
      }
    }
    throw e;
  }
}
