/**
 * The daemon's access reviews: start a campaign on `reviews.schedule` (its own cron, beside the reconcile
 * schedule), and keep `/metrics` showing the rows still pending and overdue across campaigns (refreshed
 * after each start and every `refreshMs`). A start never overlaps itself; a failed one is logged (`CronJob`).
 */
import type { Campaign } from '../../core/review/types.js';
import type { Logger } from '../logging.js';
import { CronJob } from './cron-job.js';
import { unreadText } from '../review/aws-context.js';
import type { DaemonMetrics } from './metrics.js';

export interface ReviewJob<C> {
  /** `reviews.schedule`, or null: no scheduled campaigns (the counts are still kept). */
  readonly scheduleOf: (config: C) => string | null;
  readonly start: (config: C) => Promise<Campaign>;
  readonly counts: (config: C) => { readonly pending: number; readonly overdue: number };
}

export class ReviewSchedule<C> {
  readonly #cron: CronJob<C>;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly job: ReviewJob<C>,
    readonly log: Logger,
    readonly metrics: DaemonMetrics,
    readonly timezone?: string | undefined,
    readonly refreshMs = 60_000,
  ) {
    this.#cron = new CronJob('rolemap-review', (config) => this.#start(config), log, timezone);
  }

  schedule(config: C, current: () => C): void {
    this.refresh(config);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.refresh(current()), this.refreshMs);
      this.#timer.unref();
    }
    const expr = this.job.scheduleOf(config);
    if (this.#cron.schedule(expr, current) && expr !== null) this.log.info({ reviews: expr }, 'access review campaigns scheduled');
  }

  refresh(config: C): void {
    try {
      this.metrics.recordReviews(this.job.counts(config));
    } catch (e) {
      this.log.warn({ err: e }, `review counts not read: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Starts a campaign unless one is starting; resolves when done (errors are logged). */
  runNow(config: C): Promise<void> {
    return this.#cron.runNow(config);
  }

  stop(): void {
    this.#cron.stop();
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #start(config: C): Promise<void> {
    try {
      const c = await this.job.start(config);
      this.log.info({ campaign: c.id, rows: c.population.rows, reviewers: c.population.reviewers, due: c.due }, 'access review campaign started');
      for (const u of c.awsNotRead ?? []) this.log.warn({ campaign: c.id, account: u.account }, unreadText(u.account, u.reason));
      this.refresh(config);
    } catch (e) {
      this.log.error({ err: e }, `access review campaign not started: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
