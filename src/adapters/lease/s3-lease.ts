/**
 * A lease held in one S3 object with S3's conditional writes (as Terraform's S3 backend locks since
 * 1.10): the object is JSON `{nodeId, epoch, acquiredAt, renewedAt, expiresAt}`.
 *
 * - A free lease (no object) is taken with `PutObject If-None-Match: *`, epoch = last epoch seen + 1.
 * - The holder renews with `If-Match: <its etag>`, same epoch, a new `expiresAt`.
 * - An expired lease is taken over with `If-Match: <the etag read>`, epoch + 1: of two standbys that
 *   read the same expired lease only one write matches; the other gets 412 (or 409 when S3 sees both
 *   writes at once) and stays standby.
 *
 * Expiry is judged from the lease's own timestamps against the local clock with a margin (`marginMs`,
 * a sixth of the lease): a standby takes over only when `now > expiresAt + margin`, and the holder
 * stops believing it holds the lease at `start of its last successful renewal + lease - margin`. Two
 * clocks that differ by less than 2 x margin can therefore never both believe (docs/daemon.md).
 *
 * Every S3 call is time-boxed (an abort signal of `timeoutMs`) on top of the SDK's own retries, so a
 * call that hangs ends as a failure instead of keeping a holder waiting while its lease runs out.
 */
import { GetObjectCommand, PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { RolemapError } from '../../core/errors.js';

export interface LeaseRecord {
  readonly nodeId: string;
  /** Raised by one at each takeover; never lowered. */
  readonly epoch: number;
  readonly acquiredAt: string;
  readonly renewedAt: string;
  readonly expiresAt: string;
}

/** The lease object as read or written: its content and its ETag. */
export interface LeaseState {
  readonly record: LeaseRecord;
  readonly etag: string;
}

/** The lease this node holds, and until when (local clock) it may believe so. */
export interface HeldLease extends LeaseState {
  /** Local time (ms) after which the holder must not act without a renewal: renewal start + lease - margin. */
  readonly believeUntil: number;
}

export type AcquireResult =
  | { readonly held: true; readonly lease: HeldLease; readonly takeover: boolean; readonly previous: LeaseState | null }
  | { readonly held: false; readonly current: LeaseState | null; readonly why: string; /** S3 could not be read or written (not: someone else holds it). */ readonly unreachable: boolean };

export type RenewResult = { readonly held: true; readonly lease: HeldLease } | { readonly held: false; readonly lost: boolean; readonly current: LeaseState | null; readonly why: string };

/** What a check of the lease saw: still ours, or not (with the lease seen). */
export type CheckResult = { readonly held: true } | { readonly held: false; readonly current: LeaseState | null; readonly why: string };

export class LeaseError extends RolemapError {
  readonly retryable = true;
}

export interface S3LeaseOptions {
  readonly client: Pick<S3Client, 'send'>;
  readonly bucket: string;
  readonly key: string;
  readonly leaseSeconds: number;
  readonly nodeId: string;
  readonly clock?: (() => Date) | undefined;
  /** Each S3 call's time box (default: a quarter of the lease, at most 10 s). */
  readonly timeoutMs?: number | undefined;
  /** Clock-skew margin (default: a sixth of the lease). */
  readonly marginMs?: number | undefined;
}

/** 412 (the ETag no longer matches / the object exists) or 409 (a concurrent conditional write won). */
function lostRace(e: unknown): boolean {
  const status = (e as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  const name = (e as { name?: string } | null)?.name;
  return status === 412 || status === 409 || name === 'PreconditionFailed' || name === 'ConditionalRequestConflict';
}

function notFound(e: unknown): boolean {
  const status = (e as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  return status === 404 || (e as { name?: string } | null)?.name === 'NoSuchKey';
}

function message(e: unknown): string {
  if (e instanceof S3ServiceException) return `${e.name}: ${e.message}`;
  if (e instanceof Error) return e.name === 'AbortError' || e.name === 'TimeoutError' ? `timed out (${e.message})` : e.message;
  return String(e);
}

function parseRecord(text: string, where: string): LeaseRecord {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new LeaseError(`${where}: the lease object is not JSON`);
  }
  const r = v as Partial<Record<keyof LeaseRecord, unknown>>;
  const ok =
    typeof r === 'object' && r !== null &&
    typeof r.nodeId === 'string' && typeof r.epoch === 'number' && Number.isInteger(r.epoch) && r.epoch >= 0 &&
    [r.acquiredAt, r.renewedAt, r.expiresAt].every((t) => typeof t === 'string' && !Number.isNaN(Date.parse(t)));
  if (!ok) throw new LeaseError(`${where}: the lease object is not {nodeId, epoch, acquiredAt, renewedAt, expiresAt}`);
  return r as LeaseRecord;
}

export class S3Lease {
  readonly nodeId: string;
  readonly leaseMs: number;
  readonly marginMs: number;
  readonly timeoutMs: number;
  readonly #o: S3LeaseOptions;
  readonly #clock: () => Date;
  /** The highest epoch this node has seen, so a lease object deleted by hand still never lowers the epoch. */
  #maxEpoch = 0;

  constructor(options: S3LeaseOptions) {
    this.#o = options;
    this.nodeId = options.nodeId;
    this.leaseMs = options.leaseSeconds * 1000;
    this.marginMs = options.marginMs ?? this.leaseMs / 6;
    this.timeoutMs = options.timeoutMs ?? Math.min(this.leaseMs / 4, 10_000);
    this.#clock = options.clock ?? (() => new Date());
  }

  get where(): string {
    return `s3://${this.#o.bucket}/${this.#o.key}`;
  }

  /** At least this epoch (the journal's last fenced epoch, at start). */
  noteEpoch(epoch: number): void {
    if (epoch > this.#maxEpoch) this.#maxEpoch = epoch;
  }

  /** Whether the lease has run out by the local clock, with the margin. */
  expired(record: LeaseRecord, now = this.#clock().getTime()): boolean {
    return now > Date.parse(record.expiresAt) + this.marginMs;
  }

  /** The lease object now, or null when there is none. Throws LeaseError when S3 cannot be read in time. */
  async read(): Promise<LeaseState | null> {
    try {
      const out = await this.#o.client.send(new GetObjectCommand({ Bucket: this.#o.bucket, Key: this.#o.key }), { abortSignal: AbortSignal.timeout(this.timeoutMs) });
      const text = (await out.Body?.transformToString('utf8')) ?? '';
      const record = parseRecord(text, this.where);
      this.noteEpoch(record.epoch);
      return { record, etag: out.ETag ?? '' };
    } catch (e) {
      if (notFound(e)) return null;
      if (e instanceof LeaseError) throw e;
      throw new LeaseError(`cannot read the lease ${this.where}: ${message(e)}`, { cause: e });
    }
  }

  /** Take the lease when it is free or expired; otherwise say who holds it. */
  async tryAcquire(): Promise<AcquireResult> {
    let current: LeaseState | null;
    try {
      current = await this.read();
    } catch (e) {
      return { held: false, current: null, why: message(e), unreachable: true };
    }
    const now = this.#clock();
    if (current !== null && !this.expired(current.record, now.getTime())) {
      return { held: false, current, why: `held by ${current.record.nodeId} (epoch ${current.record.epoch}) until ${current.record.expiresAt}`, unreachable: false };
    }
    const epoch = Math.max(this.#maxEpoch, current?.record.epoch ?? 0) + 1;
    const iso = now.toISOString();
    const record: LeaseRecord = { nodeId: this.nodeId, epoch, acquiredAt: iso, renewedAt: iso, expiresAt: new Date(now.getTime() + this.leaseMs).toISOString() };
    const put = await this.#put(record, current === null ? { IfNoneMatch: '*' } : { IfMatch: current.etag }, now.getTime());
    if (!put.ok) return { held: false, current, why: put.why, unreachable: !put.lost };
    this.noteEpoch(epoch);
    return { held: true, lease: put.lease, takeover: current !== null, previous: current };
  }

  /** Renew the lease this node holds (same epoch). `lost`: someone else's write won (412/409). */
  async renew(held: LeaseState): Promise<RenewResult> {
    const now = this.#clock();
    const record: LeaseRecord = { ...held.record, renewedAt: now.toISOString(), expiresAt: new Date(now.getTime() + this.leaseMs).toISOString() };
    const put = await this.#put(record, { IfMatch: held.etag }, now.getTime());
    if (put.ok) return { held: true, lease: put.lease };
    if (!put.lost) return { held: false, lost: false, current: null, why: put.why };
    const current = await this.read().catch(() => null);
    // A renewal that timed out may still have landed: the object is then ours, same node and epoch (a
    // takeover always raises the epoch), under a new ETag. Believed from when that write was made.
    if (current !== null && current.record.nodeId === this.nodeId && current.record.epoch === held.record.epoch) {
      return { held: true, lease: { ...current, believeUntil: Date.parse(current.record.renewedAt) + this.leaseMs - this.marginMs } };
    }
    return { held: false, lost: true, current, why: put.why };
  }

  /**
   * Give the lease up (graceful stop): rewritten as expired (by more than the margin), so a standby
   * takes it at its next try instead of waiting out the lease. False when S3 refused or did not answer.
   */
  async release(held: LeaseState): Promise<boolean> {
    const now = this.#clock().getTime();
    const past = new Date(now - 2 * this.marginMs - 1).toISOString();
    const put = await this.#put({ ...held.record, renewedAt: new Date(now).toISOString(), expiresAt: past }, { IfMatch: held.etag }, now);
    return put.ok;
  }

  /** A fresh look (GET) at the lease: still the object this node last wrote (same ETag, epoch and node)? */
  async check(held: HeldLease): Promise<CheckResult> {
    // Past the local belief it is not ours whatever S3 says; the read only tells whose it is now.
    const late = this.#clock().getTime() > held.believeUntil;
    const lateWhy = `the lease was not renewed in time (it could be believed until ${new Date(held.believeUntil).toISOString()})`;
    let current: LeaseState | null;
    try {
      current = await this.read();
    } catch (e) {
      return { held: false, current: null, why: late ? lateWhy : message(e) };
    }
    if (late) return { held: false, current, why: lateWhy };
    if (current === null) return { held: false, current, why: 'the lease object is gone' };
    if (current.record.epoch !== held.record.epoch || current.record.nodeId !== held.record.nodeId || current.etag !== held.etag) {
      return { held: false, current, why: `the lease shows ${current.record.nodeId} at epoch ${current.record.epoch}` };
    }
    if (this.#clock().getTime() > held.believeUntil) return { held: false, current, why: 'the lease ran out while it was being checked' };
    return { held: true };
  }

  async #put(record: LeaseRecord, condition: { IfNoneMatch: '*' } | { IfMatch: string }, startedAt: number): Promise<{ ok: true; lease: HeldLease } | { ok: false; lost: boolean; why: string }> {
    try {
      const out = await this.#o.client.send(
        new PutObjectCommand({ Bucket: this.#o.bucket, Key: this.#o.key, Body: JSON.stringify(record), ContentType: 'application/json', ...condition }),
        { abortSignal: AbortSignal.timeout(this.timeoutMs) },
      );
      // Believed from when the write was sent, not when it was answered: a slow answer shortens the belief.
      return { ok: true, lease: { record, etag: out.ETag ?? '', believeUntil: startedAt + this.leaseMs - this.marginMs } };
    } catch (e) {
      if (lostRace(e)) return { ok: false, lost: true, why: `another node wrote the lease first (${message(e)})` };
      return { ok: false, lost: false, why: `cannot write the lease ${this.where}: ${message(e)}` };
    }
  }
}
