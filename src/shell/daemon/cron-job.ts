/**
 * A job on its own cron schedule beside the reconcile schedule (the posture report, access review
 * campaigns): rescheduled only when its expression changes, never overlapping itself, and a failed run
 * is logged by the job while the next tick tries again. The config is read at each tick through `current`.
 */
import cron from 'node-cron';
import type { ScheduledTask } from 'node-cron';
import type { Logger } from '../logging.js';

export class CronJob<C> {
  #task: ScheduledTask | undefined;
  #running: Promise<void> | undefined;
  #schedule: string | null = null;

  constructor(
    /** The node-cron task name, e.g. `rolemap-posture`. */
    readonly name: string,
    /** One run; it handles (logs) its own errors, and a throw is logged here as a last resort. */
    readonly run: (config: C) => Promise<void>,
    readonly log: Logger,
    readonly timezone?: string | undefined,
  ) {}

  /** (Re)schedules on `expr` (null: none); returns true when the schedule changed. */
  schedule(expr: string | null, current: () => C): boolean {
    if (expr === this.#schedule && (this.#task !== undefined || expr === null)) return false;
    this.stop();
    this.#schedule = expr;
    if (expr === null) return true;
    this.#task = cron.schedule(expr, () => void this.runNow(current()), { name: this.name, ...(this.timezone ? { timezone: this.timezone } : {}) });
    return true;
  }

  /** Runs unless a run is in progress (then resolves with that run); resolves when it has finished. */
  runNow(config: C): Promise<void> {
    this.#running ??= (async () => {
      try {
        await this.run(config);
      } catch (e) {
        this.log.error({ err: e }, `${this.name} failed: ${e instanceof Error ? e.message : String(e)}`);
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
  }
}
