/**
 * The daemon's posture report: on `posture.schedule` (its own cron, beside the reconcile schedule), run
 * the report and journal it, and keep `/metrics` showing the open findings per account and severity.
 * A report never overlaps itself; a failed one is logged and the next tick tries again (`CronJob`).
 */
import type { Logger } from '../logging.js';
import type { PostureReport } from '../posture/run-posture.js';
import { CronJob } from './cron-job.js';
import type { DaemonMetrics } from './metrics.js';

export interface PostureJob<C> {
  /** The cron expression of `posture.schedule`, or null: no report. */
  readonly scheduleOf: (config: C) => string | null;
  readonly run: (config: C) => Promise<PostureReport>;
}

export class PostureSchedule<C> {
  readonly #cron: CronJob<C>;

  constructor(
    readonly job: PostureJob<C>,
    readonly log: Logger,
    readonly metrics: DaemonMetrics,
    readonly timezone?: string | undefined,
  ) {
    this.#cron = new CronJob('rolemap-posture', (config) => this.#report(config), log, timezone);
  }

  /** (Re)schedules for `config`; the config is read at each tick through `current`. */
  schedule(config: C, current: () => C): void {
    const expr = this.job.scheduleOf(config);
    if (this.#cron.schedule(expr, current) && expr !== null) this.log.info({ posture: expr }, 'posture report scheduled');
  }

  /** Runs the report unless one is running; resolves when it has finished (errors are logged). */
  runNow(config: C): Promise<void> {
    return this.#cron.runNow(config);
  }

  stop(): void {
    this.#cron.stop();
  }

  async #report(config: C): Promise<void> {
    try {
      const report = await this.job.run(config);
      this.metrics.recordPosture(report);
      const failed = report.accounts.filter((a) => a.error !== null);
      this.log.info({ runId: report.runId, findings: report.findings.length, opened: report.events.filter((e) => e.event === 'opened').length, resolved: report.events.filter((e) => e.event === 'resolved').length, failedAccounts: failed.map((a) => a.account) }, 'posture report done');
    } catch (e) {
      this.log.error({ err: e }, `posture report failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
