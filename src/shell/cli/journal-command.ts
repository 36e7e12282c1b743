/**
 * `rolemap journal list|runs|show|access|verify [--archive]|restore --archive|migrate`: thin commands over the journal adapter's
 * queries (src/adapters/journal/queries.ts). Every command takes the journal as `--journal FILE`
 * (an auditor's copy, no config needed) or from `--config FILE` (journal.path). Queries open the file
 * read-only and never migrate; only `migrate` writes.
 */
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { loadConfig } from '../config/index.js';
import { InvalidInputError } from '../../core/errors.js';
import {
  FORMATS,
  SqliteJournal,
  accessAsOf,
  listChanges,
  listRuns,
  openJournalForQuery,
  openJournalForVerify,
  render,
  showRun,
  verifyJournal,
  type AccessLine,
  type ChangeLine,
  type Column,
  type OutputFormat,
  type RunLine,
} from '../../adapters/journal/index.js';
import { EXIT, ExitError } from '../exit-codes.js';
import { S3JournalArchive, restoreJournal, verifyArchive, type ArchiveVerifyResult } from '../../adapters/archive/index.js';
import { pathStyle } from '../archive/index.js';
import type { CliContext } from './context.js';

interface JournalOptions {
  readonly journal?: string | undefined;
  readonly config?: string | undefined;
}

/** `journal.path` from a config file (loaded and validated in full), resolved against the config file's directory. */
export function journalPathFromConfig(configFile: string): string {
  return loadConfig(configFile).journal.path;
}

function journalFile(opts: JournalOptions): string {
  if (opts.journal !== undefined) return opts.journal;
  if (opts.config !== undefined) return journalPathFromConfig(opts.config);
  throw new InvalidInputError('which journal? give --journal FILE or --config FILE (journal.path)');
}

function withJournalOptions(cmd: Command): Command {
  return cmd.option('--journal <file>', 'the journal database file').option('-c, --config <file>', 'read journal.path (and account aliases) from this config file');
}

/**
 * `--account`: a 12-digit id as it is; an alias from the config when one is given (`--config`), so
 * `--account prod` means what the plan's `prod` means. An unknown alias is an error naming the known ones.
 */
function accountId(account: string | undefined, opts: JournalOptions): string | undefined {
  if (account === undefined || /^\d{12}$/.test(account)) return account;
  if (opts.config === undefined) {
    throw new InvalidInputError(`--account "${account}" is not a 12-digit AWS account id; give the id, or --config FILE to resolve the config's account aliases`);
  }
  const accounts = loadConfig(opts.config).roleMap.accounts;
  const found = accounts.find((a) => a.alias === account);
  if (found === undefined) {
    throw new InvalidInputError(`--account "${account}" is neither an account id nor an alias in ${opts.config} (aliases: ${accounts.map((a) => a.alias).join(', ') || 'none'})`);
  }
  return found.id;
}

function formatOption(): Option {
  return new Option('--format <format>', 'output format').choices(FORMATS).default('table');
}

function limitOption(cmd: Command): Command {
  return cmd.option('--limit <n>', 'at most this many rows', (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidInputError(`--limit must be a positive integer, not "${v}"`);
    return n;
  });
}

const CHANGE_TABLE: readonly Column<ChangeLine>[] = [
  { header: 'at', value: (c) => c.at },
  { header: 'run', value: (c) => c.runId },
  { header: 'seq', value: (c) => c.seq },
  { header: 'status', value: (c) => c.status },
  { header: 'action', value: (c) => c.action },
  { header: 'address', value: (c) => c.address },
  { header: 'account', value: (c) => c.account },
  { header: 'principal', value: (c) => c.principalName },
  { header: 'reason / error', value: (c) => c.error ?? c.reason },
];

const CHANGE_CSV: readonly Column<ChangeLine>[] = [
  { header: 'at', value: (c) => c.at },
  { header: 'recorded_at', value: (c) => c.recordedAt },
  { header: 'run', value: (c) => c.runId },
  { header: 'seq', value: (c) => c.seq },
  { header: 'status', value: (c) => c.status },
  { header: 'action', value: (c) => c.action },
  { header: 'kind', value: (c) => c.kind },
  { header: 'address', value: (c) => c.address },
  { header: 'account', value: (c) => c.account },
  { header: 'principal_name', value: (c) => c.principalName },
  { header: 'principal_guid', value: (c) => c.principalGuid },
  { header: 'group_name', value: (c) => c.groupName },
  { header: 'group_guid', value: (c) => c.groupGuid },
  { header: 'leaver_reason', value: (c) => c.leaverReason },
  { header: 'reason', value: (c) => c.reason },
  { header: 'error', value: (c) => c.error },
  { header: 'request_ids', value: (c) => c.requestIds.join(' ') },
];

const RUN_COLUMNS: readonly Column<RunLine>[] = [
  { header: 'run', value: (r) => r.id },
  { header: 'started', value: (r) => r.startedAt },
  { header: 'finished', value: (r) => r.finishedAt },
  { header: 'trigger', value: (r) => r.trigger },
  { header: 'mode', value: (r) => r.mode },
  { header: 'outcome', value: (r) => r.outcome ?? 'running' },
  { header: 'changes', value: (r) => r.changes },
  {
    header: 'by status',
    value: (r) =>
      Object.entries(r.counts)
        .map(([s, n]) => `${s} ${n}`)
        .join(', '),
  },
  { header: 'users', value: (r) => r.directory.users },
  { header: 'error', value: (r) => r.error },
];

const ACCESS_COLUMNS: readonly Column<AccessLine>[] = [
  { header: 'user', value: (a) => a.userName },
  { header: 'user_guid', value: (a) => a.userGuid },
  { header: 'account', value: (a) => a.account },
  { header: 'kind', value: (a) => a.kind },
  { header: 'target', value: (a) => a.target },
  { header: 'via_group', value: (a) => a.viaGroupName },
  { header: 'via_group_guid', value: (a) => a.viaGroupGuid },
];

function query<T>(opts: JournalOptions, fn: (db: ReturnType<typeof openJournalForQuery>) => T): T {
  const db = openJournalForQuery(journalFile(opts));
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

interface ArchiveOptions {
  readonly archive?: boolean | undefined;
  readonly bucket?: string | undefined;
  readonly prefix?: string | undefined;
  readonly region?: string | undefined;
}

function withArchiveOptions(cmd: Command): Command {
  return cmd
    .option('--archive', 'use the write-once archive (journal.archive of --config, or --bucket / --prefix)')
    .option('--bucket <name>', 'the archive bucket (instead of journal.archive.bucket)')
    .option('--prefix <prefix>', 'the archive key prefix (instead of journal.archive.prefix)')
    .option('--region <region>', 'the bucket\'s region (instead of journal.archive.region; else AWS_REGION)');
}

/** The archive from --bucket/--prefix/--region, else from the config's journal.archive (endpoint: aws.endpoint, else the SDK's AWS_ENDPOINT_URL). */
function archiveFor(o: JournalOptions & ArchiveOptions): S3JournalArchive {
  const config = o.config !== undefined ? loadConfig(o.config) : undefined;
  const a = config?.journal.archive;
  const bucket = o.bucket ?? a?.bucket;
  if (bucket === undefined) throw new InvalidInputError(o.config !== undefined ? `${o.config} has no journal.archive: give --bucket (and --prefix)` : 'which archive? give --config FILE (journal.archive) or --bucket NAME --prefix PREFIX');
  const region = o.region ?? a?.region ?? process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'];
  if (region === undefined) throw new InvalidInputError('which region is the archive bucket in? give --region (or AWS_REGION, or --config with journal.archive)');
  return new S3JournalArchive({
    bucket,
    prefix: (o.prefix ?? a?.prefix ?? 'rolemap/journal').replace(/\/+$/, ''),
    region,
    endpoint: config?.aws.endpoint,
    maxAttempts: config?.aws.maxAttempts,
    forcePathStyle: pathStyle({ aws: { region, endpoint: config?.aws.endpoint, maxAttempts: 3 } }),
  });
}

function archiveLines(a: ArchiveVerifyResult): string[] {
  const lines = [
    `Archive s3://${a.bucket}/${a.prefix}/: ${a.segments} segment${a.segments === 1 ? '' : 's'}, ${a.bytes} bytes, ${a.rows.change_events ?? 0} change rows` +
      (a.head === null ? '.' : `, head row ${a.head.id}, sha256 ${a.head.hash}.`),
  ];
  if (a.notYetShipped !== null && a.notYetShipped > 0) lines.push(`Local rows not shipped yet: ${a.notYetShipped} (the next run ships them).`);
  if (a.ok) lines.push('OK: every segment is locked, intact and linked, and the local journal holds exactly the archived rows.');
  else {
    const p = a.problems[0];
    lines.push(`ARCHIVE DIFFERS: ${p?.message ?? ''}` + (p?.key ? ` [segment ${p.key}${p.table ? `, ${p.table}` : ''}${p.row !== undefined ? ` row ${p.row}` : ''}${p.field ? `, field ${p.field}` : ''}]` : ''));
    for (const q of a.problems.slice(1, 5)) lines.push(`  also: ${q.message}`);
  }
  return lines;
}

/** Registers the `journal` command(s). */
export function registerJournal(program: Command, ctx: Pick<CliContext, 'stdout'>): void {
  // Through the CLI's stdout, not process.stdout: the redactor sees what is printed, and tests can inject it.
  const out = (text: string): void => {
    ctx.stdout.write(text);
  };
  const journal = program
    .command('journal')
    .description('Query and check the journal: who had which access when, and who or what changed it.');

  withJournalOptions(limitOption(journal.command('list')))
    .description('Changes, one line each with its final status, oldest first.')
    .option('--since <time>', 'from this time (ISO, or relative: 7d, 12h, 30m)')
    .option('--until <time>', 'up to this time (ISO or relative)')
    .option('--user <user>', 'sAMAccountName, UPN (as seen by the journal) or objectGUID')
    .option('--group <group>', 'AD group name or objectGUID')
    .option('--account <account>', 'AWS account id, or an alias from --config')
    .option('--action <action>', 'create | update | delete | revoke | disable')
    .option('--status <status>', 'planned | pending | intent | applied | failed | skipped | interrupted | refused')
    .option('--run <id>', 'one run (its id or a unique prefix)')
    .addOption(formatOption())
    .action((o: JournalOptions & { since?: string; until?: string; user?: string; group?: string; account?: string; action?: string; status?: string; run?: string; limit?: number; format: OutputFormat }) => {
      const rows = query(o, (db) => listChanges(db, { ...o, account: accountId(o.account, o) }, new Date()));
      out(render(rows, o.format === 'csv' ? CHANGE_CSV : CHANGE_TABLE, o.format));
    });

  withJournalOptions(limitOption(journal.command('runs')))
    .description('Recent runs, newest first, with their changes counted by status (default: the last 20).')
    .option('--since <time>', 'started at or after (ISO or relative)')
    .option('--until <time>', 'started at or before (ISO or relative)')
    .addOption(formatOption())
    .action((o: JournalOptions & { since?: string; until?: string; limit?: number; format: OutputFormat }) => {
      const rows = query(o, (db) => listRuns(db, o, new Date()));
      out(render(rows, RUN_COLUMNS, o.format));
    });

  withJournalOptions(journal.command('show'))
    .description('One run: its details and its changes (with every status row in json formats).')
    .argument('<run>', 'run id, or a unique prefix of it')
    .addOption(formatOption())
    .action((runId: string, o: JournalOptions & { format: OutputFormat }) => {
      const shown = query(o, (db) => showRun(db, runId));
      if (shown === null) throw new ExitError(EXIT.ERROR, `No run ${runId} in the journal.`);
      if (o.format === 'json') return out(`${JSON.stringify(shown, null, 2)}\n`);
      if (o.format === 'jsonl') return out(render(shown.changes, CHANGE_CSV, 'jsonl'));
      if (o.format === 'csv') return out(render(shown.changes, CHANGE_CSV, 'csv'));
      const r = shown.run;
      out(
        [
          `Run ${r.id}`,
          `  trigger ${r.trigger}, mode ${r.mode}, host ${r.host}, rolemap ${r.version}`,
          `  started ${r.startedAt}, finished ${r.finishedAt ?? '-'}, outcome ${r.outcome ?? 'running'}`,
          `  config sha256 ${r.configHash}`,
          `  directory: ${r.directory.users ?? '-'} users, ${r.directory.groups ?? '-'} groups`,
          ...(r.plan.summary === null ? [] : [`  plan: ${JSON.stringify(r.plan.summary)}`]),
          ...(r.plan.refusal === null ? [] : [`  refused: ${JSON.stringify(r.plan.refusal)}`]),
          ...(r.error === null ? [] : [`  error: ${r.error}`]),
          '',
        ].join('\n') + '\n',
      );
      out(render(shown.changes, CHANGE_TABLE, 'table'));
    });

  withJournalOptions(journal.command('access'))
    .description('Who had which access at a moment, from the latest entitlement snapshot at or before it.')
    .requiredOption('--as-of <time>', 'the moment (ISO or relative, e.g. 2026-03-01T09:00:00Z or 30d)')
    .option('--user <user>', 'sAMAccountName, UPN (as seen by the journal) or objectGUID')
    .option('--account <account>', 'AWS account id, or an alias from --config')
    .addOption(formatOption())
    .action((o: JournalOptions & { asOf: string; user?: string; account?: string; format: OutputFormat }) => {
      const answer = query(o, (db) => accessAsOf(db, { asOf: o.asOf, user: o.user, account: accountId(o.account, o) }, new Date()));
      if (o.format === 'json') return out(`${JSON.stringify(answer, null, 2)}\n`);
      if (o.format === 'table') {
        out(
          answer.snapshot === null
            ? `As of ${answer.asOf}: the journal has no entitlement snapshot that old.\n`
            : `As of ${answer.asOf}: snapshot ${answer.snapshot.id}, taken ${answer.snapshot.at} by run ${answer.snapshot.runId}.\n`,
        );
      }
      out(render(answer.entitlements, ACCESS_COLUMNS, o.format));
    });

  withArchiveOptions(withJournalOptions(journal.command('verify')))
    .description('Walk the hash chains and run SQLite\'s integrity check; with --archive, also check the write-once archive against the local journal. Exit 0 when intact, 1 when tampered.')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (o: JournalOptions & ArchiveOptions & { format: 'table' | 'json' }) => {
      const file = journalFile(o);
      const db = openJournalForVerify(file);
      let result: ReturnType<typeof verifyJournal>;
      let archived: ArchiveVerifyResult | undefined;
      try {
        result = verifyJournal(db);
        if (o.archive === true) {
          const archive = archiveFor(o);
          try {
            archived = await verifyArchive(archive, db);
          } finally {
            archive.destroy();
          }
        }
      } finally {
        db.close();
      }
      if (o.format === 'json') {
        out(`${JSON.stringify({ file, ...result, ...(archived ? { archive: archived } : {}) }, null, 2)}\n`);
      } else {
        const lines = [
          `Journal ${file}: ${result.changeRows} change rows, ${result.snapshotRows} entitlement snapshots, ${result.planRecordRows} plan records, ${result.sealedRuns} sealed runs` +
            (result.unsealedRuns > 0 ? ` (${result.unsealedRuns} finished before run seals existed, not covered)` : '') +
            (result.postureRuns > 0 ? `, ${result.postureRuns} posture runs with ${result.postureEvents} finding events` : '') +
            (result.reviewEvents > 0 ? `, ${result.reviewEvents} access review rows.` : '.'),
          `SQLite integrity check: ${result.integrity.join('; ')}.`,
          result.head === null ? 'Chain head: none (empty change log).' : `Chain head: row ${result.head.id}, sha256 ${result.head.hash}.`,
        ];
        if (result.ok) lines.push('OK: every row is intact and linked.');
        else {
          lines.push(`TAMPERED: ${result.problems[0]?.message ?? ''}`);
          for (const p of result.problems.slice(1)) lines.push(`  also: ${p.message}`);
        }
        if (archived) lines.push(...archiveLines(archived));
        out(`${lines.join('\n')}\n`);
      }
      if (!result.ok || (archived !== undefined && !archived.ok)) throw new ExitError(EXIT.ERROR);
    });

  withArchiveOptions(journal.command('restore'))
    .description('Rebuild a journal from the write-once archive on a new host (--archive): a new file, verified before it is put in place; never overwrites one.')
    .requiredOption('--journal <file>', 'the new journal file to write (must not exist)')
    .option('-c, --config <file>', 'read journal.archive (bucket, prefix, region) and aws.endpoint from this config file')
    .action(async (o: JournalOptions & ArchiveOptions) => {
      if (o.archive !== true) throw new InvalidInputError('restore from where? give --archive (the journal.archive bucket of --config, or --bucket/--prefix)');
      const file = resolve(o.journal ?? '');
      const archive = archiveFor(o);
      try {
        const r = await restoreJournal(file, archive);
        const rows = r.pulled.reduce((n, p) => n + p.changeRows, 0);
        out(
          [
            `Restored ${file} from s3://${archive.bucket}/${archive.prefix}/: ${r.pulled.length} segment${r.pulled.length === 1 ? '' : 's'}, ${rows} change rows.`,
            `Journal verify: OK (${r.verify.changeRows} change rows, ${r.verify.snapshotRows} entitlement snapshots, ${r.verify.sealedRuns} sealed runs).`,
            r.head.id === 0 ? 'Chain head: none (empty change log).' : `Chain head: row ${r.head.id}, sha256 ${r.head.hash}.`,
          ].join('\n') + '\n',
        );
      } finally {
        archive.destroy();
      }
    });

  withJournalOptions(journal.command('migrate'))
    .description('Create the journal if absent and apply pending migrations (refuses a changed, missing or newer history).')
    .action((o: JournalOptions) => {
      const file = journalFile(o);
      const j = SqliteJournal.open(file);
      j.close();
      out(j.migrated.length === 0 ? `Journal ${file} is up to date.\n` : `Journal ${file}: applied ${j.migrated.join(', ')}.\n`);
    });
}
