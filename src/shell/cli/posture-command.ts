/**
 * `rolemap posture`: the credential and root posture of each managed account (findings with a
 * severity, the principal and the fix), journaled per run; and `rolemap journal posture --as-of`:
 * what was open on a day, when each finding appeared and when it was resolved.
 */
import { Option, type Command } from 'commander';
import { openJournalForQuery, postureEvents, render, type Column } from '../../adapters/journal/index.js';
import { InvalidInputError } from '../../core/errors.js';
import { SEVERITIES, openAsOf } from '../../core/posture/index.js';
import type { Finding, FindingHistory } from '../../core/posture/index.js';
import { configPathFrom, loadConfig } from '../config/index.js';
import { EXIT, ExitError } from '../exit-codes.js';
import { postureFromConfig } from '../posture/from-config.js';
import type { CliContext } from './context.js';

const FINDING_COLUMNS: readonly Column<Finding>[] = [
  { header: 'severity', value: (f) => f.severity },
  { header: 'account', value: (f) => f.accountAlias },
  { header: 'kind', value: (f) => f.kind },
  { header: 'principal', value: (f) => f.principal },
  { header: 'detail', value: (f) => f.detail },
  { header: 'fix', value: (f) => f.fix },
];
const FINDING_CSV: readonly Column<Finding>[] = [{ header: 'id', value: (f) => f.id }, { header: 'account_id', value: (f) => f.account }, ...FINDING_COLUMNS];

const HISTORY_COLUMNS: readonly Column<FindingHistory>[] = [
  { header: 'severity', value: (h) => h.finding.severity },
  { header: 'account', value: (h) => h.finding.accountAlias },
  { header: 'kind', value: (h) => h.finding.kind },
  { header: 'principal', value: (h) => h.finding.principal },
  { header: 'opened', value: (h) => h.openedAt },
  { header: 'resolved', value: (h) => h.resolvedAt ?? 'open' },
];
const HISTORY_CSV: readonly Column<FindingHistory>[] = [
  { header: 'id', value: (h) => h.finding.id },
  { header: 'account_id', value: (h) => h.finding.account },
  ...HISTORY_COLUMNS,
  { header: 'detail', value: (h) => h.finding.detail },
  { header: 'fix', value: (h) => h.finding.fix },
];

const bySeverity = (a: Finding, b: Finding): number => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

export function registerPosture(program: Command, ctx: Pick<CliContext, 'stdout' | 'stderr' | 'env' | 'addSecrets'>): void {
  const out = (s: string): void => {
    ctx.stdout.write(s);
  };
  program
    .command('posture')
    .description('Report each account\'s credential and root posture (root MFA and keys, key age and use, console users without MFA, leavers\' IAM users, password policy, administrators); journaled.')
    .option('-c, --config <file>', 'config file (default ./rolemap.yaml or ROLEMAP_CONFIG)')
    .option('--account <alias>', 'only this account (alias or id); repeat for several', collect, [] as string[])
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json', 'csv']).default('table'))
    .option('--no-journal', 'do not record the findings in the journal')
    .option('--no-directory', 'do not read the directory (leavers\' IAM users are then not judged)')
    .action(async (o: { config?: string; account: string[]; format: 'table' | 'json' | 'csv'; journal: boolean; directory: boolean }) => {
      const config = loadConfig(configPathFrom(o.config, ctx.env));
      const report = await postureFromConfig(config, o.account, { journal: o.journal, directory: o.directory, addSecrets: ctx.addSecrets });
      const findings = [...report.findings].sort(bySeverity);
      if (o.format === 'json') out(`${JSON.stringify({ ...report, findings }, null, 2)}\n`);
      else if (o.format === 'csv') out(render(findings, FINDING_CSV, 'csv'));
      else {
        out(findings.length === 0 ? 'No findings.\n' : render(findings, FINDING_COLUMNS, 'table'));
        const counts = SEVERITIES.map((s) => `${findings.filter((f) => f.severity === s).length} ${s}`).join(', ');
        const opened = report.events.filter((e) => e.event === 'opened').length;
        const resolved = report.events.filter((e) => e.event === 'resolved').length;
        out(`\n${findings.length} findings (${counts}) in ${report.accounts.filter((a) => a.error === null).length} accounts; run ${report.runId}${o.journal ? `: ${opened} opened, ${resolved} resolved since the last report` : ''}.\n`);
      }
      if (report.directoryError !== null && o.directory) ctx.stderr.write(`Warning: leavers' IAM users not judged: ${report.directoryError}\n`);
      for (const a of report.accounts) if (a.error !== null) ctx.stderr.write(`Error: account ${a.alias} (${a.account}) was not read: ${a.error}\n`);
      if (report.accounts.some((a) => a.error !== null)) throw new ExitError(EXIT.ERROR);
    });

  const journal = program.commands.find((c) => c.name() === 'journal');
  if (journal === undefined) return;
  journal
    .command('posture')
    .description('Posture findings open at a moment, with when each appeared and when it was resolved.')
    .requiredOption('--as-of <date>', 'the day (2026-11-30: its end) or moment (ISO)')
    .option('--journal <file>', 'the journal database file')
    .option('-c, --config <file>', 'read journal.path from this config file')
    .option('--account <account>', 'AWS account id')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json', 'csv']).default('table'))
    .action((o: { asOf: string; journal?: string; config?: string; account?: string; format: 'table' | 'json' | 'csv' }) => {
      const file = o.journal ?? (o.config !== undefined ? loadConfig(o.config).journal.path : undefined);
      if (file === undefined) throw new InvalidInputError('which journal? give --journal FILE or --config FILE (journal.path)');
      const asOf = asOfInstant(o.asOf);
      const db = openJournalForQuery(file);
      let rows: FindingHistory[];
      try {
        rows = openAsOf(postureEvents(db, o.account), asOf);
      } finally {
        db.close();
      }
      if (o.format === 'json') return out(`${JSON.stringify({ asOf, findings: rows }, null, 2)}\n`);
      if (o.format === 'csv') return out(render(rows, HISTORY_CSV, 'csv'));
      out(`As of ${asOf}: ${rows.length} posture findings open.\n`);
      if (rows.length > 0) out(render(rows, HISTORY_COLUMNS, 'table'));
    });
}

/** A day means its end (UTC); a moment is taken as is. */
export function asOfInstant(v: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return `${v}T23:59:59.999Z`;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidInputError(`--as-of "${v}" is not a date (2026-11-30) or an ISO moment`);
  return new Date(t).toISOString();
}
