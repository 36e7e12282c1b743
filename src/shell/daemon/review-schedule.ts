/**
 * The daemon's access reviews: start a campaign on `reviews.schedule` (its own cron, beside the reconcile
 * schedule), and keep `/metrics` showing the rows still pending and overdue across campaigns (refreshed
 * after each start and every `refreshMs`). A start never overlaps itself; a failed one is logged.
 */
import cron from 'node-cron';
import type { ScheduledTask } from 'node-cron';
import type { Campaign } from '../../core/review/types.js';
import type { Logger } from '../logging.js';
import type { DaemonMetrics } from './metrics.js';

export interface ReviewJob<C> {
  /** `reviews.schedule`, or null: no scheduled campaigns (the counts are still kept). */
  readonly scheduleOf: (config: C) => string | null;
  readonly start: (config: C) => Promise<Campaign>;
  readonly counts: (config: C) => { readonly pending: number; readonly overdue: number };
}

export class ReviewSchedule<C> {
  #task: ScheduledTask | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #schedule: string | null = null;

  constructor(
    readonly job: ReviewJob<C>,
    readonly log: Logger,
    readonly metrics: DaemonMetrics,
    readonly timezone?: string | undefined,
    readonly refreshMs = 60_000,
  ) {}

  schedule(config: C, current: () => C): void {
    this.refresh(config);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.refresh(current()), this.refreshMs);
      this.#timer.unref();
    }
    const expr = this.job.scheduleOf(config);
    if (expr === this.#schedule && this.#task !== undefined) return;
    void this.#task?.destroy();
    this.#task = undefined;
    this.#schedule = expr;
    if (expr === null) return;
    this.#task = cron.schedule(expr, () => void this.runNow(current()), { name: 'rolemap-review', ...(this.timezone ? { timezone: this.timezone } : {}) });
    this.log.info({ reviews: expr }, 'access review campaigns scheduled');
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
    this.#running ??= (async () => {
      try {
        const c = await this.job.start(config);
        this.log.info({ campaign: c.id, rows: c.population.rows, reviewers: c.population.reviewers, due: c.due }, 'access review campaign started');
        this.refresh(config);
      } catch (e) {
        this.log.error({ err: e }, `access review campaign not started: ${e instanceof Error ? e.message : String(e)}`);
      } finally {
        this.#running = undefined;
      }
    })();
    return this.#running;
  }

  stop(): void {
    void this.#task?.destroy();
    this.#task = undefined;
    this.#schedule = null;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
