/**
 * Reviews for a loaded config: reading the directory and the journal, for `rolemap review start` and
 * the daemon's review schedule, and the pending / overdue counts for `/metrics`.
 */
import { AwsClients } from '../../adapters/aws/clients.js';
import { SqliteJournal, campaignExists, loadCampaigns, openJournalForQuery } from '../../adapters/journal/index.js';
import type { Campaign, CampaignScope } from '../../core/review/index.js';
import { reviewerStatus } from '../../core/review/index.js';
import type { LoadedConfig } from '../config/types.js';
import { groupSelection } from '../reconcile/run-once.js';
import { createDirectorySource } from '../reconcile/runtime.js';
import { readReviewAws } from './aws-context.js';
import { startCampaign } from './review.js';

export async function startCampaignFromConfig(
  config: LoadedConfig,
  options: {
    readonly name?: string | undefined;
    readonly scope?: Partial<CampaignScope> | undefined;
    readonly due?: string | undefined;
    readonly now: Date;
    readonly addSecrets?: ((s: readonly string[]) => void) | undefined;
    /** Read role last use and linked IAM users from AWS (default true; `review start --no-aws`: false). */
    readonly readAws?: boolean | undefined;
  },
): Promise<Campaign> {
  const { source, secrets } = createDirectorySource(config);
  options.addSecrets?.(secrets);
  const journal = SqliteJournal.open(config.journal.path);
  try {
    const history = journal.entitlementHistory();
    const snapshot = await source.read(groupSelection(config.roleMap, history));
    let name = options.name;
    if (name === undefined) {
      // Scheduled (or unnamed) campaigns: review-<date>, and the time too when that day has one already.
      name = `review-${options.now.toISOString().slice(0, 10)}`;
      if (campaignExists(journal.database, name)) name = `${name}-${options.now.toISOString().slice(11, 16).replace(':', '')}`;
    }
    let aws;
    if (options.readAws !== false) {
      const clients = new AwsClients(
        { region: config.aws.region, endpoint: config.aws.endpoint, maxAttempts: config.aws.maxAttempts, sessionName: `rolemap-${config.roleMap.safety.ownerId}`.slice(0, 64) },
        config.roleMap.accounts,
        config.roleMap.identityCenter?.account,
      );
      try {
        aws = await readReviewAws(clients, config.roleMap);
      } finally {
        clients.destroy();
      }
    }
    return startCampaign({ config, snapshot, history, db: journal.database, now: options.now, name, scope: options.scope, due: options.due, aws }).campaign;
  } finally {
    journal.close();
  }
}

/** Rows still undecided across every campaign: before their due date (pending) and after (overdue). */
export function reviewCounts(config: LoadedConfig, now: Date): { pending: number; overdue: number } {
  let db;
  try {
    db = openJournalForQuery(config.journal.path);
  } catch {
    return { pending: 0, overdue: 0 }; // no journal yet: nothing to review
  }
  try {
    let pending = 0;
    let overdue = 0;
    for (const rec of loadCampaigns(db)) {
      for (const s of reviewerStatus(rec.campaign, rec.rows, rec.decisions, now)) {
        pending += s.pending;
        overdue += s.overdue;
      }
    }
    return { pending, overdue };
  } finally {
    db.close();
  }
}
