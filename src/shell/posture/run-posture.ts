/**
 * One posture report: read each account (in parallel), read the directory once for the leaver links,
 * compute the findings, journal what opened and what was resolved. An account that cannot be read is
 * reported with its error and keeps its journaled findings open; the others still report.
 */
import { randomUUID } from 'node:crypto';
import type { Account } from '../../core/model/role-map.js';
import type { DirectorySource } from '../../core/ports.js';
import { computeFindings, leaverLinks } from '../../core/posture/index.js';
import type { Finding, FindingEvent, LeaverLink, PostureSettings } from '../../core/posture/index.js';
import type { AccountPostureRead } from '../../adapters/aws/posture/posture-reader.js';
import { recordPostureRun } from '../../adapters/journal/posture-journal.js';
import type { SqliteDatabase } from '../../adapters/journal/sqlite.js';

export interface PostureDeps {
  readonly reader: { readAccount(account: Account): Promise<AccountPostureRead> };
  /** Null: leaver links are not judged (no directory asked for). */
  readonly directory: DirectorySource | null;
  /** Null: nothing journaled. */
  readonly journal: SqliteDatabase | null;
  readonly clock: () => Date;
  readonly redact?: ((s: string) => string) | undefined;
  readonly runId?: string | undefined;
}

export interface AccountReport {
  readonly account: string;
  readonly alias: string;
  readonly calls: number;
  readonly error: string | null;
}

export interface PostureReport {
  readonly runId: string;
  readonly at: string;
  readonly accounts: readonly AccountReport[];
  readonly findings: readonly Finding[];
  /** Why leaver links were not judged, when they were not. */
  readonly directoryError: string | null;
  /** What the journal recorded (empty without a journal). */
  readonly events: readonly FindingEvent[];
}

export async function runPosture(accounts: readonly Account[], settings: PostureSettings, deps: PostureDeps): Promise<PostureReport> {
  const runId = deps.runId ?? randomUUID();
  const now = deps.clock();
  const reads = await Promise.allSettled(accounts.map((a) => deps.reader.readAccount(a)));
  let links: ((read: AccountPostureRead) => LeaverLink[]) | null = null;
  let directoryError: string | null = null;
  const anyLinked = reads.some((r) => r.status === 'fulfilled' && r.value.linkedUsers.length > 0);
  if (deps.directory === null) directoryError = 'the directory was not read';
  else if (anyLinked) {
    try {
      const snapshot = await deps.directory.read({ refs: [], namePatterns: [] });
      links = (read) => leaverLinks(read.linkedUsers, snapshot.users, now);
    } catch (e) {
      directoryError = `the directory could not be read: ${e instanceof Error ? e.message : String(e)}`;
    }
  } else links = () => [];

  const findings: Finding[] = [];
  const reports: AccountReport[] = [];
  reads.forEach((r, i) => {
    const a = accounts[i] as Account;
    if (r.status === 'rejected') {
      reports.push({ account: a.id, alias: a.alias, calls: 0, error: r.reason instanceof Error ? r.reason.message : String(r.reason) });
      return;
    }
    reports.push({ account: a.id, alias: a.alias, calls: r.value.calls, error: null });
    findings.push(...computeFindings({ ...r.value, leaverLinks: links === null ? null : links(r.value) }, settings, now));
  });
  findings.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  const at = now.toISOString();
  const events =
    deps.journal === null
      ? []
      : recordPostureRun(
          deps.journal,
          {
            runId,
            at,
            accountsRead: reports.filter((r) => r.error === null).map((r) => r.account),
            failed: reports.filter((r) => r.error !== null).map((r) => ({ account: r.account, error: r.error as string })),
            findings,
          },
          deps.redact,
        );
  return { runId, at, accounts: reports, findings, directoryError, events };
}
