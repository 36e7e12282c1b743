/**
 * The leaver fast lane: beside the daemon's cron schedule, poll the directory cheaply every
 * `leavers.pollSeconds` and cut off a leaver at once instead of at the next full run.
 *
 * A poll: the incremental read (uSNChanged above the watermark on the same DC, tombstones) brings the
 * lane's view of the directory up to date; a change to a group (memberships), a first poll, another
 * DC or a restored DC means a full directory read instead (still no AWS read). When users changed
 * or someone's accountExpires passed, the leavers are planned from the view, the journal's
 * entitlement history and the AWS state last known (`planLeaverRevocations`), and applied at once
 * through the same apply engine, journal hooks and safety checks as a full run, journaled as a run
 * of mode `fast-lane`. The leavers handled leave the entitlement history, so the next poll does not
 * find them again; the next full run confirms (and does whatever else is needed).
 *
 * It holds the daemon's mutex while it plans and applies, so it never runs during a full apply; it
 * survives errors (logs, backs off, doubling up to `maxBackoffMs`) and stops cleanly: `stop()` aborts
 * the apply in flight (the AWS call in flight finishes) and waits for the poll to end.
 */
import { hostname } from 'node:os';
import type { ChangeRead, ChangedUser, Watermark } from '../../adapters/directory/ldap/incremental.js';
import { applyPlan } from '../../core/apply/engine.js';
import type { ApplyReport } from '../../core/apply/engine.js';
import type { LeaverPlanner } from '../../core/fast-lane/plan-leavers.js';
import { historyAfter, planLeaverRevocations } from '../../core/fast-lane/plan-leavers.js';
import type { DirectoryGroup, DirectorySnapshot, DirectoryUser, Guid } from '../../core/model/directory.js';
import { LONGEST_SESSION_SECONDS } from '../../core/model/session-name.js';
import type { Entitlement, FormerNames, UnreadableScope } from '../../core/model/state.js';
import type { EntitlementHistory, FormerNamesLookup, RunOutcome } from '../../core/ports.js';
import { newRunId } from '../daemon/daemon.js';
import type { Logger } from '../logging.js';
import type { Runtime } from '../reconcile/run-once.js';
import { groupSelection, targetResolver } from '../reconcile/run-once.js';
import { VERSION } from '../version.js';
import type { FastLaneMetrics, PollResult } from './metrics.js';
import type { Mutex } from './mutex.js';
import type { StateCache } from './state-cache.js';

/** The slice of the incremental LDAP reader the lane uses. */
export interface DirectoryChangeReader {
  changesSince(since: Watermark | null): Promise<ChangeRead>;
}

/** What the lane works with; rebuilt when the daemon reloads its config. */
export interface LaneRuntime {
  /** The daemon's runtime (directory source, wrapped targets, journal, role map). */
  readonly runtime: Runtime;
  readonly cache: StateCache;
  readonly reader: DirectoryChangeReader;
}

export interface FastLaneDeps {
  /** The runtime of the config in force; undefined until the daemon has built one. */
  readonly current: () => LaneRuntime | undefined;
  readonly mutex: Mutex;
  readonly log: Logger;
  readonly metrics: FastLaneMetrics;
  /** Milliseconds between polls (read before each wait, so a config reload changes it). */
  readonly pollMs: () => number;
  readonly maxBackoffMs?: number | undefined;
  readonly planner?: LeaverPlanner | undefined;
  readonly clock?: (() => Date) | undefined;
}

export interface PollReport {
  readonly result: PollResult;
  readonly runId?: string | undefined;
  readonly leavers: number;
  readonly report?: ApplyReport | undefined;
}

interface View {
  readonly lane: LaneRuntime;
  readonly source: string;
  watermark: Watermark;
  users: Map<Guid, DirectoryUser>;
  groups: readonly DirectoryGroup[];
  /** When AD recorded each user's latest change (whenChanged), for the leaver lag. */
  changedAt: Map<Guid, string>;
  /** The session names of everyone the view has seen, kept after they leave it (moved out, deleted). */
  names: Map<Guid, SessionNames>;
  /**
   * Names the view saw someone carry before a rename it saw (until: when it saw the rename), for renames
   * between two journal snapshots: the history then has neither the name before nor the one after.
   */
  renamed: Map<Guid, FormerNames[]>;
}

type SessionNames = Pick<FormerNames, 'sAMAccountName' | 'userPrincipalName' | 'mail'>;

export class FastLane {
  readonly #deps: FastLaneDeps;
  readonly #clock: () => Date;
  readonly #planner: LeaverPlanner;
  #view: View | undefined;
  #dirty = false;
  #lastPollAt: Date | undefined;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<PollReport> | undefined;
  #abort = new AbortController();
  #stopped = true;
  /** stop() was called: a poll waiting for the mutex gives up. */
  #stopping = false;
  #failures = 0;

  constructor(deps: FastLaneDeps) {
    this.#deps = deps;
    this.#clock = deps.clock ?? (() => new Date());
    this.#planner = deps.planner ?? planLeaverRevocations;
  }

  get watermark(): Watermark | undefined {
    return this.#view?.watermark;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#stopping = false;
    this.#abort = new AbortController();
    this.#deps.log.info({ pollSeconds: this.#deps.pollMs() / 1000 }, 'leaver fast lane started');
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stopping = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#abort.abort(new Error('rolemap daemon stopping'));
    await this.#inFlight?.catch(() => undefined);
    this.#deps.log.info({}, 'leaver fast lane stopped');
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#tick(), ms);
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    let delay = this.#deps.pollMs();
    try {
      const r = await this.pollOnce();
      if (r.result === 'error' || r.result === 'failed') throw new Error(r.result);
      this.#failures = 0;
    } catch {
      this.#failures++;
      // The first failure retries at the usual interval, then 2x, 4x... up to maxBackoffMs.
      delay = Math.min(delay * 2 ** (this.#failures - 1), this.#deps.maxBackoffMs ?? 600_000);
      this.#deps.log.warn({ consecutiveFailures: this.#failures, nextPollMs: delay }, 'leaver fast lane backing off');
    }
    this.#schedule(delay);
  }

  /** One poll (tests call it directly). Never throws: an error is logged, counted and reported as `error`. */
  pollOnce(): Promise<PollReport> {
    const p = this.#poll().catch((e: unknown): PollReport => {
      this.#deps.log.error({ err: e }, 'leaver fast lane poll failed');
      this.#deps.metrics.polls.inc({ result: 'error' });
      return { result: 'error', leavers: 0 };
    });
    this.#inFlight = p;
    return p;
  }

  async #poll(): Promise<PollReport> {
    const lane = this.#deps.current();
    if (lane === undefined || lane.runtime.journal === undefined) return this.#done('waiting', 0);
    if (this.#view?.lane !== lane) this.#view = undefined;
    const { runtime } = lane;
    const changes = await lane.reader.changesSince(this.#view?.watermark ?? null);
    let changed = this.#dirty;
    let result: PollResult = 'no-change';
    if (changes.kind === 'full-read-needed' || this.#view === undefined || this.#groupsChanged(changes, this.#view)) {
      const why = changes.kind === 'full-read-needed' ? changes.reason : 'a group changed';
      this.#deps.log.info({ reason: why }, 'leaver fast lane: full directory read');
      const snapshot = await runtime.source.read(groupSelection(runtime.roleMap));
      this.#view = viewOf(lane, snapshot, changes.watermark, this.#view, this.#clock().toISOString());
      if (changes.kind === 'incremental') for (const g of changes.groups) if (g.whenChanged) this.#noteGroupChange(g.whenChanged);
      changed = true;
      result = 'full-read';
    } else {
      const view = this.#view;
      view.watermark = changes.watermark;
      const seenAt = this.#clock().toISOString();
      for (const u of changes.users) applyUserChange(view, u, seenAt);
      if (changes.users.length > 0) {
        changed = true;
        result = 'changes';
      }
    }
    const view = this.#view;
    this.#deps.metrics.watermark.set(Number(view.watermark.usn));
    const now = this.#clock();
    if (!changed && this.#expiredSince(view, now)) changed = true;
    this.#lastPollAt = now;
    if (!changed) return this.#done(result, 0);
    return this.#deps.mutex.runExclusive(async () => {
      // The daemon may have begun to stop while a full run held the lock.
      if (this.#stopping) return this.#done('waiting', 0);
      return this.#planAndApply(lane, view, result);
    });
  }

  #groupChangedAt: string | undefined;
  #noteGroupChange(at: string): void {
    if (this.#groupChangedAt === undefined || at > this.#groupChangedAt) this.#groupChangedAt = at;
  }

  /**
   * A change to a mapped group or to any group under the group base (a nested group may be there)
   * needs the memberships read again. A nested group that lives elsewhere is seen at the next full run.
   */
  #groupsChanged(changes: ChangeRead, view: View | undefined): boolean {
    if (changes.kind !== 'incremental' || view === undefined) return false;
    const mapped = new Set(view.groups.map((g) => g.guid));
    return changes.groups.some((g) => g.inGroupBase || mapped.has(g.guid));
  }

  /** Someone's accountExpires passed since the last poll. */
  #expiredSince(view: View, now: Date): boolean {
    const from = this.#lastPollAt?.getTime() ?? 0;
    for (const u of view.users.values()) {
      if (u.expiresAt === undefined) continue;
      const t = Date.parse(u.expiresAt);
      if (t > from && t <= now.getTime()) return true;
    }
    return false;
  }

  async #planAndApply(lane: LaneRuntime, view: View, pollResult: PollResult): Promise<PollReport> {
    const { runtime, cache } = lane;
    const journal = runtime.journal;
    const actual = cache.actual(runtime.targets);
    const history = journal?.entitlementHistory(this.#clock()) ?? { last: null };
    if (journal === undefined || actual === null || history.last === null) {
      // Nothing to plan from yet (no full run has read AWS or written a history): plan at the next poll.
      this.#dirty = true;
      return this.#done('waiting', 0);
    }
    this.#dirty = false;
    const now = this.#clock();
    const snapshot: DirectorySnapshot = { source: view.source, users: [...view.users.values()], groups: view.groups };
    const input = { snapshot, roleMap: runtime.roleMap, now, history: withNames(history, view.names, view.renamed), actual };
    let planned = this.#planner(input);
    if (planned.leavers.length === 0) return this.#done(pollResult, 0);
    const runId = newRunId(now);
    const log = this.#deps.log.child({ runId, fastLane: true });
    if (planned.plan.refusal?.code === 'deletion-threshold') {
      // A layoff: the deletions wait for an operator (the next full run is refused the same way and
      // awaits `rolemap approve`), but live sessions are cut now; a revocation deletes nothing.
      log.warn({ refusal: planned.plan.refusal.code }, `${planned.plan.refusal.message} The fast lane applies only the session revocations now; the rest waits for the full run and an approval.`);
      planned = this.#planner({ ...input, sessionsOnly: true });
    }
    const plan = planned.plan;
    const iso = (): string => this.#clock().toISOString();
    for (const l of planned.leavers) this.#deps.metrics.leavers.inc({ reason: l.reason });
    log.info({ leavers: planned.leavers.map((l) => ({ guid: l.guid, name: l.sAMAccountName, reason: l.reason })), changes: plan.changes.length }, 'leaver fast lane: leavers found');
    journal.startRun({ runId, trigger: 'daemon', mode: 'fast-lane', host: hostname(), version: VERSION, configHash: runtime.configHash, startedAt: now.toISOString() });
    const finish = (outcome: RunOutcome, error?: string): void => {
      journal.finishRun(runId, { outcome, finishedAt: iso(), ...(error !== undefined ? { error } : {}), directory: { users: view.users.size, groups: view.groups.length } });
      const head = journal.chainHead?.() ?? null;
      log.info({ outcome, ...(head ? { journalChainHead: head } : {}) }, 'leaver fast lane run finished');
    };
    try {
      journal.recordPlan(runId, plan);
      if (plan.refusal) {
        log.warn({ refusal: plan.refusal.code }, plan.refusal.message);
        finish('refused', plan.refusal.message);
        return this.#done('refused', planned.leavers.length, runId);
      }
      const targetFor = targetResolver(runtime.targets);
      for (const kind of new Set(plan.changes.map((c) => c.kind))) targetFor(kind);
      const report = await applyPlan(plan, { targetFor, hooks: journal.hooks(runId), signal: this.#abort.signal, guard: runtime.guard });
      const unfinished = new Set<Guid>();
      // A part of AWS the last read could not see: the plan held its changes, so whoever had a grant there
      // is not done; they stay in the history for the next full run (which reads it again) to finish.
      for (const l of planned.leavers) if (l.formerEntitlements.some((e) => (actual.unreadable ?? []).some((u) => touches(u, e)))) unfinished.add(l.guid);
      let calls = 0;
      for (const r of report.results) {
        calls += r.requestIds.length;
        if (r.status === 'applied') continue;
        for (const g of planned.concerns.get(r.change.key) ?? []) unfinished.add(g);
        if (r.change.leaver) unfinished.add(r.change.leaver.guid);
      }
      this.#deps.metrics.awsCalls.inc(calls);
      if (report.applied > 0 || plan.changes.length === 0) journal.recordEntitlements(runId, iso(), historyAfter(history.last, planned.leavers, unfinished));
      const outcome: RunOutcome = report.interrupted ? 'interrupted' : report.failed > 0 ? (report.applied > 0 ? 'partial' : 'failed') : plan.changes.length === 0 ? 'no-changes' : 'applied';
      if (report.haltedBy !== undefined) log.error({ haltedBy: report.haltedBy }, `leaver fast lane: the apply stopped: ${report.haltedBy}`);
      finish(outcome, report.haltedBy);
      const appliedAt = this.#clock();
      for (const l of planned.leavers) {
        if (unfinished.has(l.guid)) continue;
        const since = l.reason === 'removed-from-groups' ? this.#groupChangedAt : view.changedAt.get(l.guid);
        const lag = Math.max(0, (appliedAt.getTime() - (since ? Date.parse(since) : now.getTime())) / 1000);
        this.#deps.metrics.lag.observe(lag);
        this.#deps.metrics.lastLag.set(lag);
      }
      log.info({ applied: report.applied, failed: report.failed, skipped: report.skipped, awsCalls: calls, unfinished: unfinished.size }, 'leaver fast lane: revocations applied');
      if (unfinished.size > 0) this.#dirty = true;
      const result: PollResult = outcome === 'partial' ? 'partial' : outcome === 'failed' || outcome === 'interrupted' ? 'failed' : 'applied';
      return this.#done(result, planned.leavers.length, runId, report);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      try {
        finish('failed', message);
      } catch (journalError) {
        log.error({ err: journalError }, 'journal could not record the failed fast-lane run');
      }
      throw e;
    }
  }

  #done(result: PollResult, leavers: number, runId?: string, report?: ApplyReport): PollReport {
    this.#deps.metrics.polls.inc({ result });
    this.#deps.metrics.lastPoll.set(this.#clock().getTime() / 1000);
    return { result, leavers, ...(runId ? { runId } : {}), ...(report ? { report } : {}) };
  }
}

function viewOf(lane: LaneRuntime, snapshot: DirectorySnapshot, watermark: Watermark, before: View | undefined, seenAt: string): View {
  const same = before?.lane === lane;
  const changedAt = same ? before.changedAt : new Map<Guid, string>();
  const names = same ? before.names : new Map<Guid, SessionNames>();
  const renamed = same ? before.renamed : new Map<Guid, FormerNames[]>();
  const users = new Map(snapshot.users.map((u) => [u.guid, u] as const));
  for (const u of snapshot.users) {
    if (u.whenChanged) changedAt.set(u.guid, u.whenChanged);
    noteNames(names, renamed, u, seenAt);
  }
  return { lane, source: snapshot.source, watermark, users, groups: snapshot.groups, changedAt, names, renamed };
}

/** Records the names a user carries now; the ones they carried before, if different, go to `renamed` (until now). */
function noteNames(names: Map<Guid, SessionNames>, renamed: Map<Guid, FormerNames[]>, u: DirectoryUser, seenAt: string): void {
  const now: SessionNames = { sAMAccountName: u.sAMAccountName, userPrincipalName: u.userPrincipalName, mail: u.mail };
  const before = names.get(u.guid);
  if (before !== undefined && (before.sAMAccountName !== now.sAMAccountName || before.userPrincipalName !== now.userPrincipalName || before.mail !== now.mail)) {
    // Names replaced longer ago than any session lasts are forgotten.
    const oldest = Date.parse(seenAt) - LONGEST_SESSION_SECONDS * 1000;
    const list = (renamed.get(u.guid) ?? []).filter(
      (n) => (n.until === undefined || Date.parse(n.until) >= oldest) && (n.sAMAccountName !== before.sAMAccountName || n.userPrincipalName !== before.userPrincipalName || n.mail !== before.mail),
    );
    renamed.set(u.guid, [...list, { ...before, until: seenAt }]);
  }
  names.set(u.guid, now);
}

/** A changed user: kept (or added) when still under the user base, else gone from the view (moved out or deleted). */
function applyUserChange(view: View, u: ChangedUser, seenAt: string): void {
  if (u.whenChanged) view.changedAt.set(u.guid, u.whenChanged);
  if (u.user) noteNames(view.names, view.renamed, u.user, seenAt);
  if (u.inUserBase && u.user) view.users.set(u.guid, u.user);
  else view.users.delete(u.guid);
}

/**
 * The history with each grant's session names (UPN, mail) filled in from what the view saw, where the
 * journal did not keep them: a leaver gone from AD (deleted, moved out) is then revoked under the
 * configured session name. The names the view saw someone carry before a rename join the history's
 * `names`, so a session opened under a name no journal snapshot recorded is cut too.
 */
function withNames(history: EntitlementHistory, names: View['names'], renamed: View['renamed']): EntitlementHistory {
  if (history.last === null) return history;
  const known = history.names;
  const key = (n: FormerNames): string => `${n.sAMAccountName}\u0000${n.userPrincipalName ?? ''}\u0000${n.mail ?? ''}`;
  // Per person when asked (the core asks for leavers and movers only): the journal's names, then the lane's.
  const lookup: FormerNamesLookup = {
    get(guid: Guid): readonly FormerNames[] | undefined {
      const journaled = known?.get(guid);
      const list = renamed.get(guid);
      if (list === undefined) return journaled;
      // The journal's latest snapshot may still show a name the lane saw replaced: the lane knows when.
      const replaced = new Set(list.map(key));
      return [...(journaled ?? []).filter((n) => n.until !== undefined || !replaced.has(key(n))), ...list];
    },
  };
  return {
    ...history,
    names: lookup,
    last: Array.from(history.last, (e) => {
      const n = names.get(e.userGuid);
      if (n === undefined || (e.userPrincipalName !== undefined && e.mail !== undefined)) return e;
      return { ...e, userPrincipalName: e.userPrincipalName ?? n.userPrincipalName, mail: e.mail ?? n.mail };
    }),
  };
}

/** Whether a grant lies in an unreadable scope (as a full run's `keepUnread` decides it: a role in its account, a permission set by its assignments). */
function touches(scope: UnreadableScope, e: Entitlement): boolean {
  return e.kind === 'iam_role' ? scope.kinds.includes('iam_role') && (scope.account === undefined || scope.account === e.account) : scope.kinds.includes('sso_account_assignment');
}
