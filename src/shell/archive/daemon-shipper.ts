/**
 * The daemon's side of the archive: after every run (scheduled, approved or failed), a shipping pass
 * starts in the background on the run's config; the run's result is returned at once, so shipping
 * never delays the next run nor the fast lane's revocations. One S3 client per loaded config.
 */
import type { JournalArchive } from '../../adapters/archive/index.js';
import type { ArchiveConfig } from '../config/index.js';
import type { ArchiveMetrics } from './metrics.js';
import { ArchiveShipper, shipAfterRun, type ShipLogger } from './ship-after-run.js';

export interface ArchiveTarget {
  readonly journalPath: string;
  readonly archive: JournalArchive & { destroy?(): void };
  readonly settings: Pick<ArchiveConfig, 'retention' | 'timeoutSeconds'>;
}

export interface DaemonArchive<C> {
  /** Call when a run has ended (whatever its outcome): starts a pass, does not wait for it. */
  afterRun(config: C): void;
  /** Waits for the pass in flight, then releases the S3 client. */
  stop(): Promise<void>;
  /** Resolves when no pass is in flight (tests). */
  idle(): Promise<void>;
}

export function daemonArchive<C>(archiveOf: ((config: C) => ArchiveTarget | null) | undefined, deps: { readonly log: ShipLogger; readonly metrics?: ArchiveMetrics | undefined }): DaemonArchive<C> {
  let current: { config: C; target: ArchiveTarget | null } | undefined;
  let latest: C | undefined;
  const targetFor = (config: C): ArchiveTarget | null => {
    if (current?.config !== config) {
      current?.target?.archive.destroy?.();
      current = { config, target: archiveOf?.(config) ?? null };
    }
    return current.target;
  };
  const shipper = new ArchiveShipper(async () => {
    if (latest === undefined) return;
    const target = targetFor(latest);
    if (target === null) return;
    await shipAfterRun(target.journalPath, target.archive, target.settings, deps);
  });
  return {
    afterRun(config) {
      latest = config;
      if (archiveOf !== undefined) shipper.trigger();
    },
    idle: () => shipper.idle(),
    async stop() {
      await shipper.stop();
      current?.target?.archive.destroy?.();
      current = undefined;
    },
  };
}
