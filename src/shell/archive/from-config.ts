/**
 * `journal.archive` of a config -> the S3 archive (its own S3 client: the bucket's region, the config's
 * endpoint and attempts, the SDK's default credentials), or null when the config has none.
 */
import { S3JournalArchive } from '../../adapters/archive/index.js';
import type { LoadedConfig } from '../config/index.js';

export function archiveFromConfig(config: Pick<LoadedConfig, 'journal' | 'aws'>, env: NodeJS.ProcessEnv = process.env): S3JournalArchive | null {
  const a = config.journal.archive;
  if (a === undefined) return null;
  return new S3JournalArchive({ bucket: a.bucket, prefix: a.prefix, region: a.region, endpoint: config.aws.endpoint, maxAttempts: config.aws.maxAttempts, forcePathStyle: pathStyle(config, env) });
}

/**
 * Path-style URLs for an S3-compatible endpoint (aws.endpoint, AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL:
 * an emulator or a store on an IP address, where bucket host names do not resolve); AWS's own
 * virtual-hosted style otherwise.
 */
export function pathStyle(config: Pick<LoadedConfig, 'aws'>, env: NodeJS.ProcessEnv = process.env): boolean {
  return config.aws.endpoint !== undefined || (env['AWS_ENDPOINT_URL_S3'] ?? '') !== '' || (env['AWS_ENDPOINT_URL'] ?? '') !== '';
}
