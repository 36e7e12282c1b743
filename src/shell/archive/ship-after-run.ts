/**
 * Shipping after a run: open the journal, ship every segment that is due (normally one), time-boxed,
 * and never throw. A failure is logged and metered and leaves the rows for the next pass; it never
 * blocks or delays a run (the daemon starts a pass after a run and does not wait for it; the CLI
 * ships after the apply has finished).
 */
import { ArchiveCallError, ArchiveIntegrityError, shipSegment, type JournalArchive, type ShipResult } from '../../adapters/archive/index.js';
import { SqliteJournal } from '../../adapters/journal/index.js';
import type { ArchiveConfig } from '../config/index.js';
import type { ArchiveMetrics } from './metrics.js';

export interface ShipLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export type ShipOutcome =
  | { readonly ok: true; readonly shipped: readonly Extract<ShipResult, { status: 'shipped' }>[]; readonly deferred: string | null; readonly seconds: number }
  | { readonly ok: false; readonly shipped: readonly Extract<ShipResult, { status: 'shipped' }>[]; readonly error: string; readonly reason: 'timeout' | 's3' | 'integrity' | 'journal'; readonly seconds: number };

/** More than one segment in a pass only after an adopted one (the rest follows it). */
const MAX_SEGMENTS_PER_PASS = 5;

export async function shipAfterRun(
  journalPath: string,
  archive: JournalArchive,
  settings: Pick<ArchiveConfig, 'retention' | 'timeoutSeconds'>,
  deps: { readonly log: ShipLogger; readonly metrics?: ArchiveMetrics | undefined; readonly clock?: (() => Date) | undefined },
): Promise<ShipOutcome> {
  const t0 = performance.now();
  const signal = AbortSignal.timeout(settings.timeoutSeconds * 1000);
  const shipped: Extract<ShipResult, { status: 'shipped' }>[] = [];
  const seconds = (): number => (performance.now() - t0) / 1000;
  let journal: SqliteJournal | undefined;
  try {
    journal = SqliteJournal.open(journalPath, { clock: deps.clock });
    let deferred: string | null = null;
    for (let i = 0; i < MAX_SEGMENTS_PER_PASS; i++) {
      const r = await shipSegment(journal, archive, { retention: settings.retention, now: deps.clock, signal });
      if (r.status === 'nothing-new') break;
      if (r.status === 'run-open') {
        deferred = r.runId;
        break;
      }
      shipped.push(r);
      deps.metrics?.segments.inc();
      deps.metrics?.bytes.inc(r.bytes);
      deps.metrics?.lastShipped.set(Date.now() / 1000);
      deps.log.info({ segment: r.key, seq: r.seq, bytes: r.bytes, changeRows: r.changeRows, rows: r.rows, versionId: r.versionId, requestId: r.requestId, adopted: r.adopted }, `journal segment ${r.seq} shipped to s3://${archive.bucket}/${r.key}`);
    }
    if (deferred !== null) deps.log.info({ openRun: deferred }, `journal archive: run ${deferred} is still open; its rows are shipped after it finishes`);
    deps.metrics?.shipSeconds.set(seconds());
    return { ok: true, shipped, deferred, seconds: seconds() };
  } catch (e) {
    const reason = signal.aborted ? 'timeout' : e instanceof ArchiveIntegrityError ? 'integrity' : e instanceof ArchiveCallError ? 's3' : 'journal';
    const error = signal.aborted ? `the shipping time box (${settings.timeoutSeconds} s) ran out` : e instanceof Error ? e.message : String(e);
    deps.metrics?.failures.inc({ reason });
    deps.metrics?.shipSeconds.set(seconds());
    const log = reason === 'integrity' ? deps.log.error.bind(deps.log) : deps.log.warn.bind(deps.log);
    log({ err: e, reason, bucket: archive.bucket, prefix: archive.prefix }, `journal archive: not shipped (${error}); the rows stay in the local journal and the next pass ships them`);
    return { ok: false, shipped, error, reason, seconds: seconds() };
  } finally {
    journal?.close();
  }
}

/**
 * The daemon's shipper: `trigger` after each run starts a pass unless one is running (then one more
 * pass follows it), and never waits for it; `stop` waits for the pass in flight (time-boxed).
 */
export class ArchiveShipper {
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(private readonly pass: () => Promise<unknown>) {}

  trigger(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        await this.pass().catch(() => undefined);
      } while (this.#again && !this.#stopped);
    })().finally(() => {
      this.#running = undefined;
    });
  }

  /** Resolves when no pass is in flight. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.idle();
  }
}
