/**
 * The daemon's role loop (active / standby) over an S3 lease (src/adapters/lease/).
 *
 * Every renewal interval (a third of the lease) the loop either renews the lease it holds or, as a
 * standby, tries to take it (free, or expired by its own timestamps). While standby it keeps its
 * journal current (`catchUp`: the archived segments, pulled into the replica journal) and neither
 * reconciles nor runs the fast lane: the daemon asks `active` before each run.
 *
 * Fencing: `guard` is asked by the apply engine before each AWS mutation. It looks at the lease afresh
 * (a GET compared by ETag, epoch and node id, not a cached belief) and stops the apply when the lease
 * is no longer this node's, or could no longer be believed (renewal failed for too long). The reason it
 * gives, `fenced: ...` with both epochs, is journaled on the skipped changes and the interrupted run.
 * The journal stamps every row with `fencing()`: the epoch and node id of the lease held.
 */
import type { Change } from '../../core/plan/change.js';
import type { HeldLease, LeaseState, S3Lease } from '../../adapters/lease/index.js';
import type { Logger } from '../logging.js';
import type { HaMetrics } from './metrics.js';

export type HaRoleName = 'active' | 'standby';

export interface HaStatus {
  readonly role: HaRoleName;
  readonly nodeId: string;
  /** The epoch of the lease this node holds (active), or of the lease last seen (standby); null: none seen. */
  readonly epoch: number | null;
  /** Who holds the lease as last seen. */
  readonly holder: string | null;
  /** Seconds since the lease seen last was written (renewed or taken). */
  readonly leaseAgeSeconds: number | null;
  readonly leaseSeconds: number;
  /** The last time the lease could not be read or written, with why; null once it could again. */
  readonly lastError: string | null;
  /** When the lease could last be read or written (ISO); null: never yet. */
  readonly lastContactAt: string | null;
}

export interface HaRoleDeps {
  readonly lease: S3Lease;
  readonly log: Logger;
  readonly metrics?: HaMetrics | undefined;
  readonly clock?: (() => Date) | undefined;
  /** A standby's catch-up of its journal (pull the archived segments); errors are logged, never fatal. */
  readonly catchUp?: (() => Promise<void>) | undefined;
  /** Told when this node becomes active (the daemon runs at once). */
  readonly onActive?: (() => void) | undefined;
}

export class HaRole {
  readonly #deps: HaRoleDeps;
  /** The renewal in flight, if any (never rejects): the guard waits for it before calling a changed ETag a loss. */
  #renewing: Promise<unknown> | undefined;
  readonly #clock: () => Date;
  #held: HeldLease | undefined;
  /** The lease this node held last (kept after it is lost, for the fencing message). */
  #lastHeld: HeldLease | undefined;
  #seen: LeaseState | null = null;
  #lastError: string | null = null;
  #lastContact: Date | undefined;
  #timer: NodeJS.Timeout | undefined;
  #tick: Promise<void> | undefined;
  #stopped = true;

  constructor(deps: HaRoleDeps) {
    this.#deps = deps;
    this.#clock = deps.clock ?? (() => new Date());
  }

  get nodeId(): string {
    return this.#deps.lease.nodeId;
  }

  /** The renewal interval: a third of the lease. */
  get intervalMs(): number {
    return this.#deps.lease.leaseMs / 3;
  }

  /** Holds the lease and may still believe it (by the local clock). */
  get active(): boolean {
    return this.#held !== undefined && this.#clock().getTime() <= this.#held.believeUntil;
  }

  /** What the journal stamps on every row: the lease held, or null (standby). */
  fencing(): { readonly epoch: number; readonly nodeId: string } | null {
    return this.#held ? { epoch: this.#held.record.epoch, nodeId: this.nodeId } : null;
  }

  /** The daemon's gate: why a run must not start now, or null. */
  gate(): string | null {
    if (this.active) return null;
    const s = this.#seen?.record;
    return `standby: ${s ? `${s.nodeId} holds the lease (epoch ${s.epoch})` : 'this node does not hold the lease'}`;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#deps.log.info({ nodeId: this.nodeId, lease: this.#deps.lease.where, leaseSeconds: this.#deps.lease.leaseMs / 1000, renewSeconds: this.intervalMs / 1000 }, 'active/standby: role loop started');
    this.#schedule(0);
  }

  /** Stops the loop; a holder releases the lease (expires it now) so a standby need not wait for it. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#tick?.catch(() => undefined);
    const held = this.#held;
    this.#held = undefined;
    this.#updateMetrics();
    if (held) {
      const released = await this.#deps.lease.release(held).catch(() => false);
      this.#deps.log.info({ epoch: held.record.epoch, released }, released ? 'active/standby: lease released' : 'active/standby: the lease could not be released; it expires by itself');
    }
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#tick = this.tickOnce().finally(() => this.#schedule(this.intervalMs));
    }, ms);
  }

  /** One turn of the loop (tests call it). Never throws. */
  async tickOnce(): Promise<void> {
    try {
      if (this.#held) {
        const renewing = this.#renew(this.#held);
        this.#renewing = renewing.catch(() => undefined);
        try {
          await renewing;
        } finally {
          this.#renewing = undefined;
        }
      } else await this.#tryAcquire();
    } catch (e) {
      this.#deps.log.error({ err: e }, 'active/standby: the role loop failed this turn');
    }
    this.#updateMetrics();
  }

  async #renew(held: HeldLease): Promise<void> {
    const r = await this.#deps.lease.renew(held);
    if (this.#held !== held) return;
    if (r.held) {
      this.#held = r.lease;
      this.#lastHeld = r.lease;
      this.#seen = r.lease;
      this.#contact(null);
      return;
    }
    if (r.lost) {
      this.#contact(null);
      this.#seen = r.current ?? this.#seen;
      this.#lose(`the renewal lost: ${r.why}${r.current ? `; the lease shows ${r.current.record.nodeId} at epoch ${r.current.record.epoch}` : ''}`);
      return;
    }
    this.#contact(r.why);
    if (this.#clock().getTime() > held.believeUntil) this.#lose(`the lease could not be renewed before it ran out (${r.why})`);
    else this.#deps.log.warn({ epoch: held.record.epoch, until: new Date(held.believeUntil).toISOString(), error: r.why }, 'active/standby: lease renewal failed; retrying at the next interval');
  }

  async #tryAcquire(): Promise<void> {
    const r = await this.#deps.lease.tryAcquire();
    if (!r.held) {
      this.#seen = r.current ?? this.#seen;
      this.#contact(r.unreachable ? r.why : null);
      if (r.unreachable) this.#deps.log.warn({ error: r.why }, 'active/standby: the lease could not be read or written; trying again at the next interval');
      await this.#catchUp();
      return;
    }
    this.#contact(null);
    // The last rows the old holder shipped, before this node writes any of its own.
    await this.#catchUp();
    this.#held = r.lease;
    this.#lastHeld = r.lease;
    this.#seen = r.lease;
    this.#deps.metrics?.takeovers.inc({ kind: r.takeover ? 'takeover' : 'free' });
    const prev = r.previous?.record;
    this.#deps.log.warn(
      { epoch: r.lease.record.epoch, previous: prev ? { nodeId: prev.nodeId, epoch: prev.epoch, expiresAt: prev.expiresAt } : null },
      r.takeover ? `active/standby: took over the expired lease of ${prev?.nodeId ?? 'unknown'} (epoch ${prev?.epoch ?? '?'} -> ${r.lease.record.epoch}); this node is active` : `active/standby: took the free lease (epoch ${r.lease.record.epoch}); this node is active`,
    );
    this.#updateMetrics();
    this.#deps.onActive?.();
  }

  async #catchUp(): Promise<void> {
    if (!this.#deps.catchUp) return;
    try {
      await this.#deps.catchUp();
    } catch (e) {
      this.#deps.log.warn({ err: e }, 'active/standby: the standby could not bring its journal up to date from the archive this turn');
    }
  }

  #lose(why: string): void {
    const held = this.#held;
    this.#held = undefined;
    this.#deps.log.error({ epoch: held?.record.epoch ?? null, why }, `active/standby: this node is no longer active: ${why}`);
    this.#updateMetrics();
  }

  #contact(error: string | null): void {
    if (error === null) this.#lastContact = this.#clock();
    this.#lastError = error;
  }

  /**
   * The apply engine's guard: null when the lease is still this node's (checked now, against S3),
   * else the fencing reason, which stops the apply. A lease seen at a higher epoch makes this node standby.
   */
  readonly guard = async (change: Change): Promise<string | null> => {
    let held = this.#held;
    const seen = this.#seen?.record;
    if (held === undefined) {
      this.#deps.metrics?.fenced.inc();
      const mine = this.#lastHeld?.record.epoch;
      return `fenced: epoch ${mine ?? 'none'} mine (${this.nodeId}) vs ${seen ? `${seen.epoch} seen (${seen.nodeId})` : 'none seen'}: this node no longer holds the lease; change #${change.seq} not sent`;
    }
    let c = await this.#deps.lease.check(held);
    if (!c.held && (this.#renewing !== undefined || this.#held !== held)) {
      // This node's own renewal may have rewritten the lease (a new ETag) while the check read it (still in
      // flight, or answered meanwhile): once it is answered, check again against the lease it wrote.
      // Nothing else is excused.
      await this.#renewing;
      const renewed = this.#held;
      if (renewed !== undefined && renewed !== held) {
        held = renewed;
        c = await this.#deps.lease.check(held);
      }
    }
    if (c.held) return null;
    if (c.current) this.#seen = c.current;
    const mine = held.record.epoch;
    const other = c.current?.record;
    const higher = other !== undefined && other.epoch > mine;
    if (higher || (other !== undefined && other.nodeId !== this.nodeId) || this.#clock().getTime() > held.believeUntil) {
      if (this.#held === held) this.#lose(c.why);
    }
    this.#deps.metrics?.fenced.inc();
    this.#updateMetrics();
    return `fenced: epoch ${mine} mine (${this.nodeId}) vs ${other ? `${other.epoch} seen (${other.nodeId})` : 'none seen'}: ${c.why}; change #${change.seq} not sent`;
  };

  status(): HaStatus {
    const s = this.#held ?? this.#seen;
    const now = this.#clock().getTime();
    return {
      role: this.active ? 'active' : 'standby',
      nodeId: this.nodeId,
      epoch: s?.record.epoch ?? null,
      holder: s?.record.nodeId ?? null,
      leaseAgeSeconds: s ? Math.max(0, (now - Date.parse(s.record.renewedAt)) / 1000) : null,
      leaseSeconds: this.#deps.lease.leaseMs / 1000,
      lastError: this.#lastError,
      lastContactAt: this.#lastContact?.toISOString() ?? null,
    };
  }

  #updateMetrics(): void {
    const m = this.#deps.metrics;
    if (!m) return;
    m.active.set(this.active ? 1 : 0);
    const s = this.#held ?? this.#seen;
    if (s) m.epoch.set(s.record.epoch);
  }
}
