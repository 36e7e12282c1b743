/**
 * The archive's metrics on the daemon's registry: segments shipped, bytes shipped, failed passes,
 * passes deferred because a run was open, and when the last segment was shipped.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export class ArchiveMetrics {
  readonly segments: Counter;
  readonly bytes: Counter;
  readonly failures: Counter<'reason'>;
  readonly lastShipped: Gauge;
  readonly shipSeconds: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.segments = new Counter({ name: 'rolemap_archive_segments_shipped_total', help: 'Journal segments written to the write-once archive (journal.archive).', registers });
    this.bytes = new Counter({ name: 'rolemap_archive_bytes_shipped_total', help: 'Bytes (gzip) of the journal segments written to the archive.', registers });
    this.failures = new Counter({ name: 'rolemap_archive_failures_total', help: 'Shipping passes that failed (s3: the bucket could not be written or read; integrity: the archive does not continue this journal); the rows are shipped by a later pass.', labelNames: ['reason'], registers });
    this.lastShipped = new Gauge({ name: 'rolemap_archive_last_shipped_timestamp_seconds', help: 'Unix time the last segment was shipped (0: none yet).', registers });
    this.shipSeconds = new Gauge({ name: 'rolemap_archive_last_pass_seconds', help: 'How long the last shipping pass took.', registers });
  }
}
