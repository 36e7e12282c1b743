/**
 * Backoff per change, not per schedule: a change that fails run after run (a name AWS rejects, a
 * permission missing for one operation) is held back, exponentially, by its address, while the rest
 * of each plan is applied on time. After n consecutive failures of an address, it is not attempted
 * before `lastFailure + min(initial * 2^(n-1), max)`; the held change is journaled `skipped` with the
 * reason, and so is whatever depends on it. Success, or the change leaving the plan, forgets it.
 *
 * In memory: a restarted daemon tries every change once more.
 */
import type { ApplyReport } from '../../core/apply/engine.js';
import type { Change } from '../../core/plan/change.js';

export interface HeldChange {
  readonly address: string;
  readonly failures: number;
  readonly until: string;
  readonly lastError: string;
}

export interface BackoffEvents {
  /** `address` failed again: held back until `until`. */
  readonly heldBack: (held: HeldChange) => void;
  /** `address` applied after `failures` failures in a row. */
  readonly recovered: (address: string, failures: number) => void;
}

export class ChangeBackoff {
  readonly #entries = new Map<string, { failures: number; until: Date; lastError: string }>();

  constructor(
    readonly initialMs: number,
    readonly maxMs: number,
  ) {}

  /** For run-once's `holdBack`: the reason `change` is not attempted now, or null. */
  holdFor(now: Date): (change: Change) => string | null {
    return (change) => {
      const e = this.#entries.get(change.address);
      if (!e || now >= e.until) return null;
      return `held back: it failed in ${e.failures} run${e.failures === 1 ? '' : 's'} in a row (last: ${e.lastError}); next attempt after ${e.until.toISOString()}`;
    };
  }

  /** After an apply: failures back off, successes and changes no longer planned are forgotten. */
  record(report: ApplyReport, at: Date, events: BackoffEvents): void {
    const planned = new Set(report.results.map((r) => r.change.address));
    for (const address of [...this.#entries.keys()]) if (!planned.has(address)) this.#entries.delete(address);
    for (const r of report.results) {
      const address = r.change.address;
      const before = this.#entries.get(address);
      if (r.status === 'failed') {
        const failures = (before?.failures ?? 0) + 1;
        const delay = Math.min(this.initialMs * 2 ** (failures - 1), this.maxMs);
        const entry = { failures, until: new Date(at.getTime() + delay), lastError: r.error ?? 'unknown error' };
        this.#entries.set(address, entry);
        events.heldBack({ address, failures, until: entry.until.toISOString(), lastError: entry.lastError });
      } else if (r.status === 'applied' && before) {
        this.#entries.delete(address);
        events.recovered(address, before.failures);
      }
    }
  }

  /** Nothing left to apply (a run with no changes): nothing to hold back. */
  clear(): void {
    this.#entries.clear();
  }

  held(): HeldChange[] {
    return [...this.#entries].map(([address, e]) => ({ address, failures: e.failures, until: e.until.toISOString(), lastError: e.lastError }));
  }
}
