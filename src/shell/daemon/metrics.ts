/**
 * The daemon's Prometheus metrics, in a Registry of its own (never prom-client's global one), so
 * tests and several daemons in one process do not share counters.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RunResult } from '../reconcile/run-once.js';
import type { DirectorySource } from '../../core/ports.js';
import { SEVERITIES } from '../../core/posture/types.js';
import type { PostureReport } from '../posture/run-posture.js';

/** Size of a directory snapshot. */
export interface DirectoryCounts {
  readonly users: number;
  readonly groups: number;
}

export type SkipReason = 'overlap' | 'backoff' | 'standby';

export class DaemonMetrics {
  readonly registry = new Registry();
  readonly runDuration: Histogram<'outcome'>;
  readonly runs: Counter<'outcome'>;
  readonly changes: Counter<'action' | 'kind'>;
  readonly failedChanges: Counter<'action' | 'kind'>;
  readonly skippedChanges: Counter<'action' | 'kind'>;
  readonly refusedPlans: Counter<'code'>;
  readonly skippedRuns: Counter<'reason'>;
  readonly lastSuccess: Gauge;
  readonly lastRun: Gauge;
  readonly consecutiveFailures: Gauge;
  readonly refusalPending: Gauge;
  readonly changesHeldBack: Gauge;
  readonly directoryUsers: Gauge;
  readonly directoryGroups: Gauge;
  readonly throttleRetries: Counter<'service'>;
  readonly postureOpenFindings: Gauge<'account' | 'severity'>;
  readonly postureLastRun: Gauge;
  readonly reviewPending: Gauge;
  readonly reviewOverdue: Gauge;

  constructor(options: { readonly defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.runDuration = new Histogram({
      name: 'rolemap_run_duration_seconds',
      help: 'Duration of reconciliation runs, by outcome.',
      labelNames: ['outcome'],
      buckets: [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
      registers,
    });
    this.runs = new Counter({ name: 'rolemap_runs_total', help: 'Reconciliation runs, by outcome.', labelNames: ['outcome'], registers });
    this.changes = new Counter({ name: 'rolemap_changes_applied_total', help: 'Changes applied, by action and resource kind.', labelNames: ['action', 'kind'], registers });
    this.failedChanges = new Counter({ name: 'rolemap_changes_failed_total', help: 'Changes that failed, by action and resource kind.', labelNames: ['action', 'kind'], registers });
    this.skippedChanges = new Counter({ name: 'rolemap_changes_skipped_total', help: 'Changes skipped (a dependency failed or the run was stopped), by action and resource kind.', labelNames: ['action', 'kind'], registers });
    this.refusedPlans = new Counter({ name: 'rolemap_refused_plans_total', help: 'Runs whose plan the safety checks refused, by refusal code.', labelNames: ['code'], registers });
    this.skippedRuns = new Counter({ name: 'rolemap_skipped_runs_total', help: 'Scheduled runs not started: the previous run was still going (overlap), failures are backing off (backoff), or this daemon is standby (standby).', labelNames: ['reason'], registers });
    this.lastSuccess = new Gauge({ name: 'rolemap_last_success_timestamp_seconds', help: 'Unix time of the end of the last successful run (0: none yet).', registers });
    this.lastRun = new Gauge({ name: 'rolemap_last_run_timestamp_seconds', help: 'Unix time of the end of the last run, whatever its outcome (0: none yet).', registers });
    this.consecutiveFailures = new Gauge({ name: 'rolemap_consecutive_failures', help: 'Failed runs since the last success.', registers });
    this.changesHeldBack = new Gauge({ name: 'rolemap_changes_held_back', help: 'Changes held back after failing in consecutive runs (per-change backoff).', registers });
    this.refusalPending = new Gauge({ name: 'rolemap_refusal_pending', help: '1 while a refused plan awaits an operator approval (rolemap approve RUN).', registers });
    this.directoryUsers = new Gauge({ name: 'rolemap_directory_users', help: 'Users in the last directory snapshot read.', registers });
    this.directoryGroups = new Gauge({ name: 'rolemap_directory_groups', help: 'Groups in the last directory snapshot read.', registers });
    this.throttleRetries = new Counter({ name: 'rolemap_aws_throttle_retries_total', help: 'AWS calls answered with a throttling error and retried by the SDK, by service.', labelNames: ['service'], registers });
    this.postureOpenFindings = new Gauge({ name: 'rolemap_posture_open_findings', help: 'Posture findings open after the last posture report, by account and severity.', labelNames: ['account', 'severity'], registers });
    this.postureLastRun = new Gauge({ name: 'rolemap_posture_last_run_timestamp_seconds', help: 'Unix time of the last posture report (0: none yet).', registers });
    this.reviewPending = new Gauge({ name: 'rolemap_review_pending_rows', help: 'Access review rows not yet decided whose campaign is not yet due.', registers });
    this.reviewOverdue = new Gauge({ name: 'rolemap_review_overdue_rows', help: 'Access review rows not decided by their campaign\'s due date (they follow reviews.ifNoDecision).', registers });
    this.reviewPending.set(0);
    this.reviewOverdue.set(0);
    this.postureLastRun.set(0);
    this.lastSuccess.set(0);
    this.lastRun.set(0);
    this.consecutiveFailures.set(0);
    this.refusalPending.set(0);
    this.changesHeldBack.set(0);
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'rolemap_' });
  }

  /** The hook the AWS clients call on each throttled attempt (see docs/daemon.md). */
  readonly onThrottleRetry = (service: string): void => {
    this.throttleRetries.inc({ service });
  };

  recordReviews(counts: { readonly pending: number; readonly overdue: number }): void {
    this.reviewPending.set(counts.pending);
    this.reviewOverdue.set(counts.overdue);
  }

  observeDirectory(counts: DirectoryCounts): void {
    this.directoryUsers.set(counts.users);
    this.directoryGroups.set(counts.groups);
  }

  /** Wraps a directory source so every snapshot it reads updates the directory gauges. */
  observeSource(source: DirectorySource): DirectorySource {
    return {
      describe: source.describe,
      read: async (groups) => {
        const snapshot = await source.read(groups);
        this.observeDirectory({ users: snapshot.users.length, groups: snapshot.groups.length });
        return snapshot;
      },
    };
  }

  recordRun(result: RunResult, seconds: number): void {
    this.runDuration.observe({ outcome: result.outcome }, seconds);
    this.runs.inc({ outcome: result.outcome });
    if (result.outcome === 'refused') this.refusedPlans.inc({ code: result.plan.refusal?.code ?? 'unknown' });
    for (const r of result.report?.results ?? []) {
      const labels = { action: r.change.action, kind: r.change.kind };
      if (r.status === 'applied') this.changes.inc(labels);
      else if (r.status === 'failed') this.failedChanges.inc(labels);
      else this.skippedChanges.inc(labels);
    }
  }

  /** The open findings of each account the report read (every severity, zeros included); unread accounts keep their figures. */
  recordPosture(report: PostureReport): void {
    for (const a of report.accounts) {
      if (a.error !== null) continue;
      for (const severity of SEVERITIES) {
        this.postureOpenFindings.set({ account: a.account, severity }, report.findings.filter((f) => f.account === a.account && f.severity === severity).length);
      }
    }
    this.postureLastRun.set(new Date(report.at).getTime() / 1000);
  }

  /** An approved plan that run-once refused (it no longer matches): counted as refused, not as an error. */
  recordRefusedSavedPlan(seconds: number): void {
    this.runDuration.observe({ outcome: 'refused' }, seconds);
    this.runs.inc({ outcome: 'refused' });
  }

  recordError(seconds: number): void {
    this.runDuration.observe({ outcome: 'error' }, seconds);
    this.runs.inc({ outcome: 'error' });
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
