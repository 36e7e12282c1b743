/**
 * `journal.archive` of a config -> the S3 archive (its own S3 client: the bucket's region, the config's
 * endpoint and attempts, the SDK's default credentials), or null when the config has none.
 */
import { S3JournalArchive } from '../../adapters/archive/index.js';
import type { LoadedConfig } from '../config/index.js';

export function archiveFromConfig(config: Pick<LoadedConfig, 'journal' | 'aws'>): S3JournalArchive | null {
  const a = config.journal.archive;
  if (a === undefined) return null;
  return new S3JournalArchive({ bucket: a.bucket, prefix: a.prefix, region: a.region, endpoint: config.aws.endpoint, maxAttempts: config.aws.maxAttempts });
}
