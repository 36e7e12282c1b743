/**
 * The posture report for a loaded config: SDK clients per account (the SDK's default credentials and
 * each account's role), the reader, the directory for leaver links, the journal. Used by
 * `rolemap posture` and the daemon's posture schedule.
 */
import { AwsClients } from '../../adapters/aws/clients.js';
import { PostureReader } from '../../adapters/aws/posture/posture-reader.js';
import { SqliteJournal } from '../../adapters/journal/index.js';
import { InvalidInputError } from '../../core/errors.js';
import { DEFAULT_POSTURE_SETTINGS } from '../../core/posture/index.js';
import type { LoadedConfig } from '../config/types.js';
import { createDirectorySource } from '../reconcile/runtime.js';
import { runPosture } from './run-posture.js';
import type { PostureReport } from './run-posture.js';

/** The accounts `--account` names (aliases or ids), or all of them. */
export function selectAccounts(config: LoadedConfig, wanted: readonly string[]): LoadedConfig['roleMap']['accounts'] {
  const all = config.roleMap.accounts;
  if (wanted.length === 0) return all;
  return wanted.map((w) => {
    const a = all.find((x) => x.alias === w || x.id === w);
    if (a === undefined) throw new InvalidInputError(`--account "${w}" is not an account of ${config.path} (aliases: ${all.map((x) => x.alias).join(', ')})`);
    return a;
  });
}

/** The report from the configured accounts with the SDK's default credentials and each account's role. */
export async function postureFromConfig(config: LoadedConfig, accountNames: readonly string[], options: { readonly journal: boolean; readonly directory: boolean; readonly addSecrets?: ((s: readonly string[]) => void) | undefined }): Promise<PostureReport> {
  const accounts = selectAccounts(config, accountNames);
  const clients = new AwsClients(
    { region: config.aws.region, endpoint: config.aws.endpoint, maxAttempts: config.aws.maxAttempts, sessionName: `rolemap-${config.roleMap.safety.ownerId}`.slice(0, 64) },
    config.roleMap.accounts,
    config.roleMap.identityCenter?.account,
  );
  const ic = config.roleMap.identityCenter;
  const reader = new PostureReader(
    { iam: (a) => clients.iam(a), ...(ic ? { ssoAdmin: () => clients.ssoAdmin() } : {}) },
    { link: config.roleMap.leavers.iamUsers, identityCenterInstanceArn: ic?.instanceArn ?? null },
  );
  let directory = null;
  if (options.directory) {
    const d = createDirectorySource(config);
    options.addSecrets?.(d.secrets);
    directory = d.source;
  }
  const journal = options.journal ? SqliteJournal.open(config.journal.path) : null;
  try {
    return await runPosture(accounts, config.posture ?? DEFAULT_POSTURE_SETTINGS, { reader, directory, journal: journal?.database ?? null, clock: () => new Date() });
  } finally {
    journal?.close();
    clients.destroy();
  }
}
