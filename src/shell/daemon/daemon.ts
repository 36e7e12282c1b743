/**
 * `rolemap daemon`: run once, plus a scheduler (controller-runtime / external-dns style).
 *
 * Everything it touches is injected: where the config comes from (so SIGHUP can reload it), the
 * run function (`runOnce` in production, a fake in tests), the clock, the logger and the metrics.
 * The daemon owns: the journal lock, the cron schedule (no overlap: a tick while a run is going is
 * skipped, logged and counted), backoff after consecutive failures, refused plans awaiting an
 * operator's approval, graceful shutdown (abort the run, bounded grace), health and metrics.
 */
import { randomBytes } from 'node:crypto';
import cron from 'node-cron';
import type { ScheduledTask } from 'node-cron';
import type { Logger } from '../logging.js';
import type { RunOnceOptions, RunResult } from '../reconcile/run-once.js';
import type { RunOutcome } from '../../core/ports.js';
import type { Plan } from '../../core/plan/change.js';
import { SavedPlanRefusedError } from '../reconcile/errors.js';
import { ApprovalStore, LEGACY_FILES_WARNING, legacyApprovalFiles } from './approvals.js';
import type { Approval, PendingRefusal } from './approvals.js';
import { ChangeBackoff } from './change-backoff.js';
import { HealthServer } from './health-server.js';
import type { HealthReport } from './health-server.js';
import { acquireJournalLock } from './lock.js';
import type { JournalLock } from './lock.js';
import { DaemonMetrics } from './metrics.js';
import type { SkipReason } from './metrics.js';
import { checkSettings } from './settings.js';
import type { DaemonSettings } from './settings.js';
import { PostureSchedule } from './posture-schedule.js';
import type { PostureJob } from './posture-schedule.js';
import { ReviewSchedule } from './review-schedule.js';
import type { ReviewJob } from './review-schedule.js';

/** What a run gets besides its options: its logger (bound to the run id) and the metrics to feed. */
export interface RunContext {
  readonly log: Logger;
  readonly metrics: DaemonMetrics;
}

/** `runOnce`, bound to a runtime built from `config`. */
export type RunFunction<C> = (config: C, options: RunOnceOptions, context: RunContext) => Promise<RunResult>;

export interface DaemonOptions {
  /** After SIGTERM, how long the aborted run may take to finish before the daemon exits anyway. */
  readonly shutdownGraceMs: number;
  /** Healthy only while the last success is at most this many schedule intervals old... */
  readonly staleIntervals: number;
  /** ...and never stale sooner than this (a schedule of seconds would otherwise flap during a run). */
  readonly staleMinMs: number;
  /**
   * Backoff after n consecutive runs that failed as a whole (the run threw: directory or AWS unreadable):
   * min(initialMs * 2^(n-1), maxMs) before the next scheduled run. A change that fails is backed off
   * by itself with the same figures (change-backoff.ts); the rest of the plan stays on schedule.
   */
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
}

export const DEFAULT_DAEMON_OPTIONS: DaemonOptions = {
  shutdownGraceMs: 30_000,
  staleIntervals: 3,
  staleMinMs: 60_000,
  backoffInitialMs: 60_000,
  backoffMaxMs: 3_600_000,
};

export interface DaemonDeps<C> {
  /** Loads and validates the config; throws (a typed error) when it is invalid. Called at start and on SIGHUP. */
  readonly loadConfig: () => C | Promise<C>;
  /** The daemon's view of a config. */
  readonly settingsOf: (config: C) => DaemonSettings;
  readonly run: RunFunction<C>;
  readonly log: Logger;
  readonly clock?: (() => Date) | undefined;
  readonly metrics?: DaemonMetrics | undefined;
  readonly options?: Partial<DaemonOptions> | undefined;
  /** Written into the lock file. */
  readonly command?: string | undefined;
  /** The posture report on its own schedule (posture-schedule.ts); absent: none. */
  readonly posture?: PostureJob<C> | undefined;
  /** Access review campaigns on their own schedule, and their pending / overdue gauges (review-schedule.ts); absent: none. */
  readonly reviews?: ReviewJob<C> | undefined;
  /** What runs beside the schedule for the daemon's life (the leaver fast lane): started once the lock is held, stopped before it is released. */
  readonly companions?: readonly DaemonCompanion[] | undefined;
  /** Active/standby (src/shell/ha/): a run starts only while `gate()` gives null; /healthz shows `status()`. */
  readonly role?: DaemonRole | undefined;
}

/** The daemon's view of the active/standby role loop. */
export interface DaemonRole {
  /** Why no run may start now (standby), or null (active). */
  gate(): string | null;
  /** For /healthz: role, epoch, lease age... */
  status(): { readonly role: 'active' | 'standby'; readonly leaseSeconds: number; readonly lastContactAt: string | null; readonly lastError: string | null };
}

export interface DaemonCompanion {
  start(): void;
  stop(): Promise<void>;
}

export interface RunSummary {
  readonly runId: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  /** The run's outcome, or `error` when the run function threw. */
  readonly outcome: RunOutcome | 'error';
  readonly error?: string | undefined;
  readonly changes: number;
  readonly durationMs: number;
}

/** One part the last run held because it could not see it: an account (or target) it could not read. */
export interface DegradedPart {
  /** `account prod (222222222222)`, `the identity-center target`, `AD group sAMAccountName=Data-Analysts`. */
  readonly name: string;
  readonly account: string | null;
  readonly reason: string;
}

function degradedParts(result: RunResult): DegradedPart[] {
  return [
    ...(result.unreadable ?? []).map((u) => ({ name: u.name, account: u.account ?? null, reason: u.reason })),
    ...(result.unresolved ?? []).map((u) => ({ name: `AD group ${u.reference}`, account: null, reason: u.message })),
  ];
}

const SUCCESS: ReadonlySet<RunOutcome | 'error'> = new Set(['no-changes', 'applied', 'planned']);
const FAILURE: ReadonlySet<RunOutcome | 'error'> = new Set(['failed', 'partial', 'error']);

/** Run ids sort by time and are short enough to type: `20261129T001502Z-3f9a1c`. */
export function newRunId(now: Date): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

export class Daemon<C> {
  readonly metrics: DaemonMetrics;
  readonly #deps: DaemonDeps<C>;
  readonly #options: DaemonOptions;
  readonly #clock: () => Date;
  #config: C | undefined;
  #settings: DaemonSettings | undefined;
  #lock: JournalLock | undefined;
  #store: ApprovalStore | undefined;
  #task: ScheduledTask | undefined;
  #server: HealthServer | undefined;
  #current: { runId: string; startedAt: Date; abort: AbortController; done: Promise<RunSummary> } | undefined;
  #pending: PendingRefusal | null = null;
  #last: RunSummary | undefined;
  #lastSuccessAt: Date | undefined;
  #lastFailure: RunSummary | undefined;
  /** What the last run could not read or resolve and so held (per-account isolation): /healthz says degraded. */
  #degraded: readonly DegradedPart[] = [];
  #consecutiveFailures = 0;
  /** Consecutive runs that threw: these back off the schedule. */
  #consecutiveErrors = 0;
  #backoffUntil: Date | undefined;
  readonly #changes: ChangeBackoff;
  #stopping: Promise<{ graceful: boolean }> | undefined;
  #startedAt: Date | undefined;
  #runsStarted = 0;
  #posture: PostureSchedule<C> | undefined;
  #reviews: ReviewSchedule<C> | undefined;

  constructor(deps: DaemonDeps<C>) {
    this.#deps = deps;
    this.#options = { ...DEFAULT_DAEMON_OPTIONS, ...(deps.options ?? {}) };
    this.#clock = deps.clock ?? (() => new Date());
    this.metrics = deps.metrics ?? new DaemonMetrics();
    this.#changes = new ChangeBackoff(this.#options.backoffInitialMs, this.#options.backoffMaxMs);
  }

  get log(): Logger {
    return this.#deps.log;
  }

  get settings(): DaemonSettings {
    if (!this.#settings) throw new Error('the daemon has not started');
    return this.#settings;
  }

  get config(): C {
    if (this.#config === undefined) throw new Error('the daemon has not started');
    return this.#config;
  }

  /** URL of the health/metrics listener, once started. */
  get url(): string {
    return this.#server?.url ?? '';
  }

  get running(): boolean {
    return this.#current !== undefined;
  }

  get runsStarted(): number {
    return this.#runsStarted;
  }

  get lastRun(): RunSummary | undefined {
    return this.#last;
  }

  /**
   * Loads the config, takes the journal lock (JournalLockedError when another rolemap holds it),
   * opens the listener, schedules, and runs once now when `runAtStart`. Throws on an invalid config.
   */
  async start(): Promise<void> {
    const config = await this.#deps.loadConfig();
    const settings = checkSettings(this.#deps.settingsOf(config));
    this.#config = config;
    this.#settings = settings;
    this.#applyLogLevel(settings);
    this.#lock = acquireJournalLock(settings.journalPath, {
      clock: this.#clock,
      command: this.#deps.command,
      onStaleRecovered: (stale, why) => this.log.warn({ lock: `${settings.journalPath}.lock`, stale }, `recovered a stale journal lock: ${why}`),
    });
    try {
      this.#store = ApprovalStore.open(settings.journalPath, { create: true });
      for (const file of legacyApprovalFiles(settings.journalPath)) this.log.warn({ file }, `${file}: ${LEGACY_FILES_WARNING}`);
      this.#pending = this.#store.pending();
      this.metrics.refusalPending.set(this.#pending ? 1 : 0);
      if (settings.healthPort !== null) {
        this.#server = new HealthServer(() => this.health(), this.metrics);
        await this.#server.start(settings.healthHost ?? '127.0.0.1', settings.healthPort);
      }
      this.#schedule(settings);
      for (const c of this.#deps.companions ?? []) c.start();
      if (this.#deps.posture) {
        this.#posture = new PostureSchedule(this.#deps.posture, this.log, this.metrics, settings.timezone);
        this.#posture.schedule(config, () => this.config);
      }
      if (this.#deps.reviews) {
        this.#reviews = new ReviewSchedule(this.#deps.reviews, this.log, this.metrics, settings.timezone);
        this.#reviews.schedule(config, () => this.config);
      }
    } catch (e) {
      await this.#server?.close();
      this.#store?.close();
      this.#store = undefined;
      this.#lock.release();
      throw e;
    }
    this.#startedAt = this.#clock();
    this.log.info(
      { schedule: settings.schedule, journal: settings.journalPath, health: this.url || null, runAtStart: settings.runAtStart, pendingRefusal: this.#pending?.runId ?? null },
      'rolemap daemon started',
    );
    if (settings.runAtStart) this.trigger('start');
  }

  #applyLogLevel(settings: DaemonSettings): void {
    if (this.log.level !== settings.logLevel) this.log.level = settings.logLevel;
  }

  #schedule(settings: DaemonSettings): void {
    void this.#task?.destroy();
    const log = this.log;
    this.#task = cron.schedule(settings.schedule, () => this.trigger('schedule'), {
      name: 'rolemap-reconcile',
      ...(settings.timezone ? { timezone: settings.timezone } : {}),
      logger: {
        info: (m) => log.debug({ scheduler: true }, m),
        warn: (m) => log.warn({ scheduler: true }, m),
        error: (m, err) => log.error({ scheduler: true, err: err ?? m }, String(m)),
        debug: (m) => log.debug({ scheduler: true }, String(m)),
      },
    });
  }

  /** A tick: start a run unless one is going, failures are backing off, or the daemon is stopping. */
  trigger(why: 'schedule' | 'start' | 'manual' | 'takeover'): Promise<RunSummary> | null {
    if (this.#stopping || this.#config === undefined) return null;
    const now = this.#clock();
    const standby = this.#deps.role?.gate() ?? null;
    if (standby !== null) {
      // Not a warning: a standby skips every tick by design.
      this.metrics.skippedRuns.inc({ reason: 'standby' });
      this.log.debug({ skipped: 'standby', trigger: why }, `${standby}: this ${why} tick is skipped`);
      return null;
    }
    if (this.#current) {
      this.#skip('overlap', { running: this.#current.runId, runningSince: this.#current.startedAt.toISOString(), trigger: why }, `run ${this.#current.runId} is still going: this ${why} tick is skipped`);
      return null;
    }
    if (why === 'schedule' && this.#backoffUntil && now < this.#backoffUntil) {
      this.#skip('backoff', { consecutiveFailures: this.#consecutiveErrors, until: this.#backoffUntil.toISOString() }, `backing off after ${this.#consecutiveErrors} consecutive failed runs: this tick is skipped`);
      return null;
    }
    return this.#startRun(now, why);
  }

  #skip(reason: SkipReason, fields: object, msg: string): void {
    this.metrics.skippedRuns.inc({ reason });
    this.log.warn({ skipped: reason, ...fields }, msg);
  }

  #startRun(now: Date, why: string): Promise<RunSummary> {
    const runId = newRunId(now);
    const abort = new AbortController();
    const done = this.#execute(runId, now, abort.signal, why);
    this.#current = { runId, startedAt: now, abort, done };
    this.#runsStarted++;
    void done.finally(() => {
      if (this.#current?.runId === runId) this.#current = undefined;
    });
    return done;
  }

  async #execute(runId: string, startedAt: Date, signal: AbortSignal, why: string): Promise<RunSummary> {
    // Let #startRun record the run as current before anything else happens.
    await Promise.resolve();
    const log = this.log.child({ runId });
    const config = this.config;
    const approved = this.#approvalFor(log);
    const holdBack = this.#changes.holdFor(startedAt);
    const options: RunOnceOptions = approved
      ? { mode: 'saved-plan', trigger: 'daemon', runId, signal, holdBack, savedPlan: approved.plan, approvedRefusal: true }
      : { mode: 'apply', trigger: 'daemon', runId, signal, holdBack };
    if (approved) {
      const { approval, plan } = approved;
      log.warn(
        { approvedRun: approval.runId, planHash: approval.planHash, approvedBy: approval.approvedBy, approvedAt: approval.approvedAt, refusal: plan.refusal?.code ?? null, changes: plan.changes.length },
        `applying the refused plan of run ${approval.runId} that ${approval.approvedBy} approved`,
      );
    }
    // runOnce logs "run started" and "run finished" (it sees the run id already bound and binds it
    // no second time); the daemon adds why it ran and, at the end, its summary.
    log.debug({ trigger: why, mode: options.mode }, 'run triggered');
    const t0 = performance.now();
    let summary: RunSummary;
    try {
      const result = await this.#deps.run(config, options, { log, metrics: this.metrics });
      const durationMs = performance.now() - t0;
      this.metrics.recordRun(result, durationMs / 1000);
      summary = { runId, startedAt: startedAt.toISOString(), finishedAt: this.#clock().toISOString(), outcome: result.outcome, changes: result.plan.changes.length, durationMs };
      const report = result.report;
      const counts = report ? { applied: report.applied, failed: report.failed, skipped: report.skipped } : {};
      const fields = { outcome: result.outcome, changes: result.plan.changes.length, ...counts, durationMs: Math.round(durationMs) };
      if (FAILURE.has(result.outcome)) log.error(fields, 'run summary: finished with failures');
      else if (result.outcome === 'refused') log.warn({ ...fields, refusal: result.plan.refusal }, 'run summary: refused by the safety checks');
      else log.info({ ...fields, trigger: why }, 'run summary');
      this.#afterRunSafely(summary, result, approved?.approval ?? null, log);
    } catch (e) {
      const durationMs = performance.now() - t0;
      const error = e instanceof Error ? e.message : String(e);
      if (approved && e instanceof SavedPlanRefusedError) {
        // Not a failure: the approved plan is no longer what the directory and AWS give, so it is not applied.
        this.metrics.recordRefusedSavedPlan(durationMs / 1000);
        summary = { runId, startedAt: startedAt.toISOString(), finishedAt: this.#clock().toISOString(), outcome: 'refused', error, changes: 0, durationMs };
        log.warn(
          { approvedRun: approved.approval.runId, planHash: approved.approval.planHash, reason: error, durationMs: Math.round(durationMs) },
          `the approved plan of run ${approved.approval.runId} was not applied: it no longer matches what the directory and AWS give now (${error}); the approval is used up and the next run plans afresh`,
        );
      } else {
        this.metrics.recordError(durationMs / 1000);
        summary = { runId, startedAt: startedAt.toISOString(), finishedAt: this.#clock().toISOString(), outcome: 'error', error, changes: 0, durationMs };
        log.error({ err: e, durationMs: Math.round(durationMs) }, 'run failed');
      }
      this.#afterRunSafely(summary, null, approved?.approval ?? null, log);
    }
    return summary;
  }

  /** The operator's approval not yet used, with its plan; an unreadable one counts as none (and says so). */
  #approvalFor(log: Logger): { approval: Approval; plan: Plan } | null {
    try {
      return this.#store?.unusedApproval() ?? null;
    } catch (e) {
      log.error({ err: e }, 'cannot read the approval from the journal; the refused plan stays refused');
      return null;
    }
  }

  /** Bookkeeping after a run never throws: a run promise that rejects would end the process. */
  #afterRunSafely(summary: RunSummary, result: RunResult | null, approval: Approval | null, log: Logger): void {
    try {
      this.#afterRun(summary, result, approval, log);
    } catch (e) {
      log.error({ err: e }, 'could not record the run\'s refusal state in the journal; it is kept in memory only');
    }
  }

  #afterRun(summary: RunSummary, result: RunResult | null, approval: Approval | null, log: Logger): void {
    const finished = new Date(summary.finishedAt);
    this.#last = summary;
    if (result) this.#degraded = degradedParts(result);
    this.metrics.lastRun.set(finished.getTime() / 1000);
    if (SUCCESS.has(summary.outcome)) {
      this.#lastSuccessAt = finished;
      this.metrics.lastSuccess.set(finished.getTime() / 1000);
    }
    if (FAILURE.has(summary.outcome)) {
      this.#consecutiveFailures++;
      this.#lastFailure = summary;
    } else if (summary.outcome !== 'interrupted') {
      if (this.#consecutiveFailures > 0) log.info({ after: this.#consecutiveFailures }, 'recovered from consecutive failures');
      this.#consecutiveFailures = 0;
    }
    // Only a run that failed as a whole backs off the schedule; failed changes back off one by one.
    if (summary.outcome === 'error') {
      this.#consecutiveErrors++;
      const delay = Math.min(this.#options.backoffInitialMs * 2 ** (this.#consecutiveErrors - 1), this.#options.backoffMaxMs);
      this.#backoffUntil = new Date(finished.getTime() + delay);
      log.warn({ consecutiveFailures: this.#consecutiveErrors, backoffMs: delay, until: this.#backoffUntil.toISOString() }, 'backing off: scheduled runs before this time are skipped');
    } else if (summary.outcome !== 'interrupted') {
      this.#consecutiveErrors = 0;
      this.#backoffUntil = undefined;
    }
    if (result?.report) {
      this.#changes.record(result.report, finished, {
        heldBack: (h) => log.warn({ change: h.address, failures: h.failures, until: h.until, error: h.lastError }, `change ${h.address} failed in ${h.failures} run${h.failures === 1 ? '' : 's'} in a row: it is held back until ${h.until}; the rest of the plan stays on schedule`),
        recovered: (address, failures) => log.info({ change: address, after: failures }, `change ${address} applied after ${failures} failed run${failures === 1 ? '' : 's'}`),
      });
    } else if (result?.outcome === 'no-changes') {
      this.#changes.clear();
    }
    this.metrics.changesHeldBack.set(this.#changes.held().length);
    this.metrics.consecutiveFailures.set(this.#consecutiveFailures);
    this.#afterRunRefusals(summary, result, approval, log);
  }

  /** Refusals: a refused plan stays pending until approved (or no longer refused); an approval is used up by one attempt. */
  #afterRunRefusals(summary: RunSummary, result: RunResult | null, approval: Approval | null, log: Logger): void {
    const store = this.#store;
    if (!store) return;
    try {
      if (approval) {
        const applied = result !== null && result.outcome !== 'interrupted' && result.outcome !== 'refused';
        const detail = result ? `run ${summary.runId} ended ${result.outcome}` : `run ${summary.runId}: ${summary.error ?? summary.outcome}`;
        store.recordUsed(approval, summary.runId, detail);
        if (result && !SUCCESS.has(result.outcome)) {
          log.warn({ outcome: summary.outcome }, 'the approved plan did not apply cleanly; the approval is used up and the next run plans afresh');
        }
        if (applied) {
          store.clearRefusal(summary.runId, `the approved plan of run ${approval.runId} was applied (${result.outcome})`);
          this.#pending = null;
        }
      } else if (result && result.outcome === 'refused') {
        // In memory first: when the journal cannot be written, the daemon still shows the refusal.
        this.#pending = { runId: summary.runId, refusal: result.plan.refusal ?? { code: 'deletion-threshold', message: 'refused' }, planHash: '', changes: result.plan.changes.length, firstRunId: summary.runId, firstSeenAt: summary.finishedAt, lastSeenAt: summary.finishedAt, contentHash: '' };
        const { pending, isNew } = store.recordRefusal(summary.runId, result.plan);
        this.#pending = pending;
        if (isNew) log.warn({ refusal: pending.refusal, planHash: pending.planHash, approve: `rolemap approve ${pending.runId}` }, 'the plan awaits an operator approval');
        else log.info({ refusal: pending.refusal.code, firstRefusedRun: pending.firstRunId, approve: `rolemap approve ${pending.runId}` }, 'the same plan is refused again; it still awaits an operator approval');
      } else if (this.#pending && result && result.outcome !== 'interrupted') {
        log.info({ previouslyRefused: this.#pending.runId }, 'the plan is no longer refused; the pending refusal is cleared');
        this.#pending = null;
        store.clearRefusal(summary.runId, `run ${summary.runId} ended ${result.outcome}`);
      }
    } finally {
      this.metrics.refusalPending.set(this.#pending ? 1 : 0);
    }
  }

  /** SIGHUP: reload the config. An invalid config, or one that moves the journal, keeps the old one. */
  async reload(): Promise<{ ok: boolean; error?: string }> {
    if (this.#settings === undefined || this.#stopping) {
      this.log.warn('config reload ignored: the daemon is not running');
      return { ok: false, error: 'the daemon is not running' };
    }
    let config: C;
    let settings: DaemonSettings;
    try {
      config = await this.#deps.loadConfig();
      settings = checkSettings(this.#deps.settingsOf(config));
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      this.log.error({ err: e }, `config reload failed; keeping the running config: ${error}`);
      return { ok: false, error };
    }
    const old = this.settings;
    if (settings.journalPath !== old.journalPath) {
      const error = `journal.path changed from ${old.journalPath} to ${settings.journalPath}: restart the daemon to move to another journal`;
      this.log.error({ from: old.journalPath, to: settings.journalPath }, `config reload refused; keeping the running config: ${error}`);
      return { ok: false, error };
    }
    if (settings.healthPort !== old.healthPort || (settings.healthHost ?? '127.0.0.1') !== (old.healthHost ?? '127.0.0.1')) {
      this.log.warn({ from: old.healthPort, to: settings.healthPort }, 'the health listener address changed; it moves at the next restart');
    }
    this.#config = config;
    this.#settings = { ...settings, healthPort: old.healthPort, healthHost: old.healthHost };
    if (!this.#stopping) this.#posture?.schedule(config, () => this.config);
    if (!this.#stopping) this.#reviews?.schedule(config, () => this.config);
    this.#applyLogLevel(settings);
    if (settings.schedule !== old.schedule || settings.timezone !== old.timezone) {
      if (!this.#stopping) this.#schedule(settings);
      this.log.info({ from: old.schedule, to: settings.schedule }, 'schedule changed');
    }
    this.log.info({ schedule: settings.schedule, logLevel: settings.logLevel }, 'config reloaded; the next run uses it');
    return { ok: true };
  }

  /** SIGTERM/SIGINT: stop scheduling, abort the run in progress, wait at most the grace period. */
  stop(reason = 'stop'): Promise<{ graceful: boolean }> {
    this.#stopping ??= this.#stop(reason);
    return this.#stopping;
  }

  /** The posture report now (tests, and an operator's signal some day); resolves when done. */
  async runPosture(): Promise<void> {
    await this.#posture?.runNow(this.config);
  }

  /** Starts an access review campaign now (tests); resolves when done. */
  async startReview(): Promise<void> {
    await this.#reviews?.runNow(this.config);
  }

  async #stop(reason: string): Promise<{ graceful: boolean }> {
    this.#posture?.stop();
    this.#reviews?.stop();
    void this.#task?.destroy();
    this.#task = undefined;
    const current = this.#current;
    let graceful = true;
    if (current) {
      this.log.info({ signal: reason, runId: current.runId, graceMs: this.#options.shutdownGraceMs }, 'stopping: the AWS call in flight finishes, the rest of the run is skipped');
      current.abort.abort(new Error(`rolemap daemon stopping (${reason})`));
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), this.#options.shutdownGraceMs);
      });
      const first = await Promise.race([current.done.then(() => 'done' as const), timedOut]);
      clearTimeout(timer);
      if (first === 'timeout') {
        graceful = false;
        this.log.error({ runId: current.runId, graceMs: this.#options.shutdownGraceMs }, 'the run did not stop within the grace period; exiting anyway (the next run marks its unfinished changes interrupted)');
      }
    } else {
      this.log.info({ signal: reason }, 'stopping: no run in progress');
    }
    for (const c of this.#deps.companions ?? []) await c.stop().catch((e: unknown) => this.log.error({ err: e }, 'a companion of the daemon did not stop cleanly'));
    await this.#server?.close();
    this.#closeStore();
    this.#lock?.release();
    this.log.info({ graceful }, 'rolemap daemon stopped');
    return { graceful };
  }

  #closeStore(): void {
    try {
      this.#store?.close();
    } catch (e) {
      this.log.warn({ err: e }, 'could not close the journal connection of the approvals');
    }
    this.#store = undefined;
  }

  /** The schedule's interval: the gap between its next two times. */
  intervalMs(): number | null {
    const next = this.#task?.getNextRuns(2) ?? [];
    const [a, b] = next;
    return a && b ? b.getTime() - a.getTime() : null;
  }

  health(): HealthReport {
    const now = this.#clock();
    const role = this.#deps.role?.status();
    const common = {
      ...(role ? { ha: role } : {}),
      at: now.toISOString(),
      running: this.#current?.runId ?? null,
      lastRun: this.#last ?? null,
      lastSuccessAt: this.#lastSuccessAt?.toISOString() ?? null,
      consecutiveFailures: this.#consecutiveFailures,
    };
    const unhealthy = (reason: string, detail: object): HealthReport => ({ healthy: false, status: 'unhealthy', reason, ...detail, ...common });
    if (this.#stopping) return unhealthy('stopping', { message: 'the daemon is shutting down' });
    if (role !== undefined && role.role === 'standby') {
      // A standby is healthy while it can see the lease: it is ready to take over.
      const contact = role.lastContactAt === null ? null : Date.parse(role.lastContactAt);
      const silentMs = contact === null ? now.getTime() - (this.#startedAt ?? now).getTime() : now.getTime() - contact;
      if (silentMs > role.leaseSeconds * 1000) {
        return unhealthy('lease-unreachable', { message: `standby: the lease could not be read for ${Math.round(silentMs / 1000)} s${role.lastError ? ` (${role.lastError})` : ''}; this node could not take over` });
      }
      return { healthy: true, status: 'healthy', role: 'standby', ...common };
    }
    if (this.#pending) {
      const p = this.#pending;
      let approved: Approval | null = null;
      try {
        approved = this.#store?.unusedApprovalOnly() ?? null;
      } catch (e) {
        this.log.error({ err: e }, 'cannot read the approval from the journal');
      }
      return unhealthy('refused', {
        message: approved
          ? `run ${p.runId} was refused (${p.refusal.message}); ${approved.approvedBy} approved the plan of run ${approved.runId}, it is applied at the next run if it still matches`
          : `run ${p.runId} was refused (${p.refusal.message}); review it and run: rolemap approve ${p.runId}`,
        refusal: { runId: p.runId, code: p.refusal.code, message: p.refusal.message, changes: p.changes, planHash: p.planHash, since: p.firstSeenAt, firstRunId: p.firstRunId, approved: approved !== null },
      });
    }
    if (this.#degraded.length > 0) {
      const parts = this.#degraded;
      return {
        healthy: false,
        status: 'degraded',
        reason: 'degraded',
        message: `the last run held what it could not read or resolve: ${parts.map((p) => `${p.name} (${p.reason})`).join('; ')}`,
        degraded: parts,
        ...common,
      };
    }
    if (this.#consecutiveFailures > 0 && this.#lastFailure) {
      const f = this.#lastFailure;
      const heldBack = this.#changes.held();
      const held = heldBack.length > 0 ? `; ${heldBack.length} change${heldBack.length === 1 ? '' : 's'} held back after failing (${heldBack.map((h) => h.address).slice(0, 3).join(', ')}${heldBack.length > 3 ? ', ...' : ''})` : '';
      return unhealthy('failed', {
        message: `the last run ${f.runId} ${f.outcome === 'error' ? `failed: ${f.error ?? 'unknown error'}` : `ended ${f.outcome}`}${held}`,
        error: f.error ?? null,
        nextRunNotBefore: this.#backoffUntil?.toISOString() ?? null,
        heldBack,
      });
    }
    if (!this.#lastSuccessAt) return unhealthy('never-ran', { message: this.#current ? 'the first run is in progress' : 'no run has succeeded yet' });
    const interval = this.intervalMs();
    if (interval !== null) {
      const limit = Math.max(this.#options.staleIntervals * interval, this.#options.staleMinMs);
      const age = now.getTime() - this.#lastSuccessAt.getTime();
      if (age > limit) return unhealthy('stale', { message: `the last success was ${Math.round(age / 1000)} s ago, more than ${this.#options.staleIntervals} schedule intervals allow (${Math.round(limit / 1000)} s)` });
    }
    return { healthy: true, status: 'healthy', ...common };
  }

  /** The refused plan awaiting approval, if any. */
  get pendingRefusal(): PendingRefusal | null {
    return this.#pending;
  }

  get startedAt(): Date | undefined {
    return this.#startedAt;
  }
}
