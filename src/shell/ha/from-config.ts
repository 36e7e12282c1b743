/**
 * The role loop for a config's `ha` section: an S3 client for the lease (the bastion's own
 * credentials, the SDK's default chain and its own retries), the lease, the loop. Null without `ha`.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { lastFencedEpoch } from '../../adapters/journal/fencing.js';
import { S3Lease } from '../../adapters/lease/index.js';
import { S3JournalArchive, pullSegments } from '../../adapters/archive/index.js';
import { SqliteJournal } from '../../adapters/journal/sqlite-journal.js';
import type { LoadedConfig } from '../config/types.js';
import type { Logger } from '../logging.js';
import { HaRole } from './ha-role.js';
import type { HaRoleDeps } from './ha-role.js';

export function haRoleFor(
  config: LoadedConfig,
  context: { readonly log: Logger; readonly metrics?: HaRoleDeps['metrics']; readonly catchUp?: HaRoleDeps['catchUp']; readonly onActive?: HaRoleDeps['onActive']; readonly env?: NodeJS.ProcessEnv },
): { role: HaRole; close(): void } | null {
  const ha = config.ha;
  if (!ha) return null;
  const env = context.env ?? process.env;
  // An S3-compatible endpoint (config or AWS_ENDPOINT_URL[_S3]) is addressed path-style; AWS itself virtual-hosted.
  const endpoint = config.aws.endpoint;
  const custom = endpoint !== undefined || env['AWS_ENDPOINT_URL_S3'] !== undefined || env['AWS_ENDPOINT_URL'] !== undefined;
  const client = new S3Client({
    region: config.aws.region,
    ...(endpoint !== undefined ? { endpoint } : {}),
    forcePathStyle: custom,
    maxAttempts: config.aws.maxAttempts,
    retryMode: 'standard',
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const lease = new S3Lease({ client, bucket: ha.bucket, key: ha.key, leaseSeconds: ha.leaseSeconds, nodeId: ha.nodeId });
  // Never below what this journal recorded, even if someone deleted the lease object.
  lease.noteEpoch(lastFencedEpoch(config.journal.path));
  const log = context.log.child({ component: 'ha', nodeId: ha.nodeId });
  // The standby's journal follows the archive (journal.archive): the segments the active shipped, pulled
  // into this journal every renewal interval and once more on taking the lease, never rows of its own.
  const a = config.journal.archive;
  const archive = a ? new S3JournalArchive({ bucket: a.bucket, prefix: a.prefix, region: a.region, endpoint, maxAttempts: config.aws.maxAttempts, forcePathStyle: custom }) : null;
  const catchUp =
    context.catchUp ??
    (archive
      ? async (): Promise<void> => {
          const journal = SqliteJournal.open(config.journal.path);
          try {
            const r = await pullSegments(journal, archive, { signal: AbortSignal.timeout((a?.timeoutSeconds ?? 30) * 1000) });
            if (r.pulled.length > 0) log.info({ segments: r.pulled.map((p) => p.key), head: r.head }, `standby: pulled ${r.pulled.length} journal segment(s) from the archive`);
          } finally {
            journal.close();
          }
        }
      : undefined);
  const role = new HaRole({ lease, log, metrics: context.metrics, catchUp, onActive: context.onActive });
  return {
    role,
    close: () => {
      client.destroy();
      archive?.destroy();
    },
  };
}
