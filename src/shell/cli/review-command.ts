/**
 * `rolemap review`: access re-certification campaigns (docs/review.md).
 *   start   snapshot the population, route reviewers, journal the campaign
 *   export  one packet per reviewer (csv | json | html), or the whole campaign as an Entra ID CSV (entra)
 *   decide  import a filled packet (csv or json); refused as a whole on any bad line
 *   status  per reviewer: approved, revoked, pending, overdue
 *   report  the auditor's evidence (csv | html)
 * Revocations take effect at the next `rolemap reconcile` (or daemon run), like every other change.
 */
import { Option, type Command } from 'commander';
import { SqliteJournal, openJournalForQuery, render, type Column } from '../../adapters/journal/index.js';
import { InvalidInputError } from '../../core/errors.js';
import type { ReviewerStatus } from '../../core/review/index.js';
import { configPathFrom, loadConfig } from '../config/index.js';
import { aliasOf } from '../../core/model/role-map.js';
import { unreadWarning } from '../review/aws-context.js';
import { startCampaignFromConfig } from '../review/from-config.js';
import { campaignReport, campaignStatus, exportEntraCsv, exportPackets, importDecisions, requireCampaign, writeReport } from '../review/review.js';
import type { CliContext } from './context.js';

const STATUS_COLUMNS: readonly Column<ReviewerStatus>[] = [
  { header: 'reviewer', value: (s) => s.reviewer.userPrincipalName },
  { header: 'rows', value: (s) => s.rows },
  { header: 'approved', value: (s) => s.approved },
  { header: 'revoked', value: (s) => s.revoked },
  { header: 'pending', value: (s) => s.pending },
  { header: 'overdue', value: (s) => s.overdue },
];

const collect = (v: string, prev: string[]): string[] => [...prev, v];

export function registerReview(program: Command, ctx: Pick<CliContext, 'stdout' | 'stderr' | 'env' | 'addSecrets'>): void {
  const out = (s: string): void => {
    ctx.stdout.write(s);
  };
  const review = program.command('review').description('Access reviews: managers re-approve their reports\' access; revocations follow at the next reconcile (docs/review.md).');
  const withConfig = (c: Command): Command => c.option('-c, --config <file>', 'config file (default ./rolemap.yaml or ROLEMAP_CONFIG)');

  withConfig(review.command('start'))
    .description('Snapshot who holds what, route each grant to a reviewer, and journal the campaign.')
    .option('--name <name>', 'campaign name and id, e.g. Q1-2027 (default review-<date>)')
    .option('--scope <what>', 'account:<alias|id> or group:<AD group name>; repeat for several', collect, [] as string[])
    .option('--due <days>', 'time to decide, e.g. 14d (default reviews.due)')
    .option('--no-aws', 'do not read AWS: no role last use, no linked IAM user rows (docs/review.md)')
    .action(async (o: { config?: string; name?: string; scope: string[]; due?: string; aws: boolean }) => {
      const config = loadConfig(configPathFrom(o.config, ctx.env));
      const accounts: string[] = [];
      const groups: string[] = [];
      for (const s of o.scope) {
        const m = /^(account|group):(.+)$/.exec(s);
        if (!m) throw new InvalidInputError(`--scope "${s}": expected account:<alias|id> or group:<AD group name>`);
        (m[1] === 'account' ? accounts : groups).push(m[2] as string);
      }
      const campaign = await startCampaignFromConfig(config, { name: o.name, scope: { accounts, groups }, due: o.due, now: new Date(), addSecrets: ctx.addSecrets, readAws: o.aws });
      const alias = aliasOf(config.roleMap);
      for (const u of campaign.awsNotRead ?? []) ctx.stderr.write(`${unreadWarning(u, alias(u.account))}\n`);
      out(`Campaign ${campaign.id} started: ${campaign.population.rows} grants of ${campaign.population.people} people for ${campaign.population.reviewers} reviewers, due ${campaign.due}.\n`);
    });

  withConfig(review.command('export'))
    .description('Write one packet per reviewer.')
    .argument('<campaign>')
    .option('--reviewer <upn>', 'only this reviewer\'s packet')
    .addOption(new Option('--format <format>', 'packet format (entra: the whole campaign as one Entra ID access reviews custom data CSV)').choices(['csv', 'json', 'html', 'entra']).default('csv'))
    .requiredOption('--out <dir>', 'directory for the packets (created, owner-only)')
    .action((campaignId: string, o: { config?: string; reviewer?: string; format: 'csv' | 'json' | 'html' | 'entra'; out: string }) => {
      if (o.format === 'entra' && o.reviewer !== undefined) throw new InvalidInputError('--format entra writes the whole campaign (Entra routes the rows to managers itself); drop --reviewer');
      const config = loadConfig(configPathFrom(o.config, ctx.env));
      const db = openJournalForQuery(config.journal.path);
      try {
        if (o.format === 'entra') {
          const x = exportEntraCsv(requireCampaign(db, campaignId), o.out);
          out(`Entra ID custom data CSV written: ${x.file} (${x.rows} rows)\n`);
          for (const s of x.skipped) out(`  left out: row ${s.rowId} (${s.person}): ${s.why}\n`);
          return;
        }
        const files = exportPackets(requireCampaign(db, campaignId), { reviewer: o.reviewer, format: o.format, outDir: o.out });
        out(`${files.length} packet(s) written:\n${files.map((f) => `  ${f}\n`).join('')}`);
      } finally {
        db.close();
      }
    });

  withConfig(review.command('decide'))
    .description('Import decisions from filled packets (CSV or JSON); all files are checked before any is imported.')
    .argument('<campaign>')
    .argument('<files...>')
    .action((campaignId: string, files: string[], o: { config?: string }) => {
      const config = loadConfig(configPathFrom(o.config, ctx.env));
      const journal = SqliteJournal.open(config.journal.path);
      try {
        const { decisions, skipped } = importDecisions(journal.database, campaignId, files, new Date());
        const revoked = decisions.filter((d) => d.verdict === 'revoke').length;
        out(`${decisions.length} decision(s) imported from ${files.join(', ')} (${decisions.length - revoked} approve, ${revoked} revoke${skipped > 0 ? `; ${skipped} row(s) left undecided` : ''}). Revocations take effect at the next reconcile.\n`);
      } finally {
        journal.close();
      }
    });

  withConfig(review.command('status'))
    .description('Per reviewer: approved, revoked, pending and overdue rows.')
    .argument('<campaign>')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json', 'csv']).default('table'))
    .action((campaignId: string, o: { config?: string; format: 'table' | 'json' | 'csv' }) => {
      const config = loadConfig(configPathFrom(o.config, ctx.env));
      const db = openJournalForQuery(config.journal.path);
      try {
        const rec = requireCampaign(db, campaignId);
        const status = campaignStatus(rec, new Date());
        out(render(status, STATUS_COLUMNS, o.format));
        if (o.format === 'table') out(`\nCampaign ${rec.campaign.id}, due ${rec.campaign.due}; undecided rows after it: ${rec.ifNoDecision}.\n`);
      } finally {
        db.close();
      }
    });

  withConfig(review.command('report'))
    .description('The auditor\'s evidence: population, decisions, executed revocations with request ids, journal verify.')
    .argument('<campaign>')
    .addOption(new Option('--format <format>', 'report format').choices(['csv', 'html']).default('csv'))
    .action((campaignId: string, o: { config?: string; format: 'csv' | 'html' }) => {
      const config = loadConfig(configPathFrom(o.config, ctx.env));
      const db = openJournalForQuery(config.journal.path);
      try {
        out(writeReport(campaignReport(db, requireCampaign(db, campaignId), new Date()), o.format));
      } finally {
        db.close();
      }
    });
}
