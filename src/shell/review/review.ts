/**
 * `rolemap review`: campaigns from the directory and the role map, packets out, decisions in, status and
 * the auditor's report. The work is the core's (src/core/review); here: files, the journal, the clock.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { firstGranted, loadCampaign, recordCampaign, recordDecisions, verifyJournal } from '../../adapters/journal/index.js';
import type { SqliteDatabase } from '../../adapters/journal/index.js';
import { InvalidInputError } from '../../core/errors.js';
import { computeDesired } from '../../core/desired/desired.js';
import type { DirectorySnapshot } from '../../core/model/directory.js';
import { aliasOf } from '../../core/model/role-map.js';
import type { EntitlementHistory } from '../../core/ports.js';
import type { CampaignRecord } from '../../core/review/effect.js';
import type { Campaign, CampaignScope, Decision, ExecutedRevocation, Packet, ReportModel, ReviewRow } from '../../core/review/index.js';
import { ReviewerRouter, buildPackets, buildReport, reviewerStatus, rowStatus, snapshotPopulation, decisionValidator, latestDecisions, revocationReason } from '../../core/review/index.js';
import type { DecisionInput } from '../../core/review/decisions.js';
import type { LoadedConfig, ReviewSettings } from '../config/types.js';
import type { ReviewAwsContext } from './aws-context.js';
import { csvLine, parseCsv } from './csv.js';
import { renderPacketHtml, renderReportHtml, toEntraCsv } from './html.js';

export const DEFAULT_REVIEW_SETTINGS: ReviewSettings = { reviewers: {}, fallbackReviewer: null, ifNoDecision: 'keep', schedule: null, dueDays: 14 };

const CAMPAIGN_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function parseDue(text: string, now: Date): string {
  const m = /^([1-9]\d{0,2})d$/.exec(text.trim());
  if (!m) throw new InvalidInputError(`--due "${text}": expected a number of days, e.g. 14d`);
  return new Date(now.getTime() + Number(m[1]) * 86_400_000).toISOString();
}

export interface StartInput {
  /** The role map, `reviews` settings and config path of the loaded config (`startInputOf`). */
  readonly config: Pick<LoadedConfig, 'roleMap' | 'reviews' | 'path'>;
  readonly snapshot: DirectorySnapshot;
  readonly history: EntitlementHistory;
  readonly db: SqliteDatabase;
  readonly now: Date;
  readonly name?: string | undefined;
  readonly scope?: Partial<CampaignScope> | undefined;
  readonly due?: string | undefined;
  /** Read from AWS at start (`readReviewAws`); absent: AWS not read (no role last use, no IAM user rows). */
  readonly aws?: ReviewAwsContext | undefined;
}

/** Snapshots the population, routes it, journals the campaign. Nothing is written when anyone is unroutable. */
export function startCampaign(input: StartInput): { campaign: Campaign; rows: ReviewRow[] } {
  const { config, now } = input;
  const settings = config.reviews ?? DEFAULT_REVIEW_SETTINGS;
  const name = input.name ?? `review-${now.toISOString().slice(0, 10)}`;
  if (!CAMPAIGN_ID_RE.test(name)) throw new InvalidInputError(`--name "${name}": use letters, digits, . _ and - (at most 64), e.g. Q1-2027`);
  const accounts = (input.scope?.accounts ?? []).map((a) => {
    const acc = config.roleMap.accounts.find((x) => x.alias === a || x.id === a);
    if (acc === undefined) throw new InvalidInputError(`--scope account "${a}" is not an account of ${config.path} (aliases: ${config.roleMap.accounts.map((x) => x.alias).join(', ')})`);
    return acc.id;
  });
  const scope: CampaignScope = { accounts, groups: [...(input.scope?.groups ?? [])] };
  const desired = computeDesired(input.snapshot, config.roleMap, now, input.history);
  const first = firstGranted(input.db);
  const router = new ReviewerRouter(input.snapshot.users, settings, now);
  const population = snapshotPopulation({
    campaignId: name,
    scope,
    snapshot: input.snapshot,
    entitlements: desired.entitlements,
    resources: desired.resources,
    router,
    aliasOf: aliasOf(config.roleMap),
    firstGrantedAt: (e) => first.get(`${e.userGuid}\u0000${e.kind}\u0000${e.account}\u0000${e.target}`),
    ...(input.aws !== undefined ? { roleLastUsed: input.aws.roleLastUsed, iamUsers: input.aws.iamUsers } : {}),
    now,
  });
  if (population.unroutable.length > 0) {
    throw new InvalidInputError(`campaign ${name} not started: ${population.unroutable.length} person(s) have no reviewer:\n  ${population.unroutable.join('\n  ')}`);
  }
  const reviewers = new Set(population.rows.map((r) => r.reviewer.userPrincipalName.toLowerCase()));
  const campaign: Campaign = {
    id: name,
    name,
    scope,
    createdAt: now.toISOString(),
    due: parseDue(input.due ?? `${settings.dueDays}d`, now),
    population: { people: new Set(population.rows.map((r) => r.person.objectGUID)).size, rows: population.rows.length, reviewers: reviewers.size },
    awsRead: input.aws !== undefined,
    ...(input.aws !== undefined && input.aws.unread.length > 0 ? { awsNotRead: input.aws.unread.map((u) => ({ account: u.account, reason: u.reason })) } : {}),
  };
  recordCampaign(input.db, campaign, settings.ifNoDecision, population.rows);
  return { campaign, rows: population.rows };
}

export function requireCampaign(db: SqliteDatabase, id: string): CampaignRecord {
  const rec = loadCampaign(db, id);
  if (rec === undefined) throw new InvalidInputError(`campaign "${id}" is not in the journal (rolemap review start --name ${id})`);
  return rec;
}

// ---------- packets ----------

export const PACKET_CSV_HEADER = [
  'campaign_id',
  'packet_sha256',
  'row_id',
  'reviewer',
  'person_guid',
  'sam_account_name',
  'user_principal_name',
  'display_name',
  'mail',
  'department',
  'title',
  'kind',
  'account_id',
  'account_alias',
  'entitlement',
  'granting_group',
  'granting_group_dn',
  'group_description',
  'first_granted_at',
  'description',
  'policies',
  'role_last_used_at_any_person',
  'access_keys',
  'access_key_last_used_at',
  'routed_by',
  'decision',
  'justification',
] as const;

export function packetCsv(p: Packet): string {
  const lines = [csvLine(PACKET_CSV_HEADER)];
  for (const r of p.rows) {
    const e = r.entitlement;
    lines.push(
      csvLine([
        p.campaign.id,
        p.sha256,
        r.rowId,
        p.reviewer.userPrincipalName,
        r.person.objectGUID,
        r.person.sAMAccountName,
        r.person.userPrincipalName,
        r.person.displayName,
        r.person.mail,
        r.person.department,
        r.person.title,
        e.kind,
        e.accountId,
        e.accountAlias,
        e.name,
        e.group?.name,
        e.group?.dn,
        e.group?.description,
        e.firstGrantedAt,
        r.context.description,
        r.context.policies.join('; '),
        r.context.lastUsed.roleLastUsedAt,
        (e.accessKeys ?? []).map((k) => `${k.accessKeyId} ${k.status}${k.lastUsedAt !== undefined ? ` used ${k.lastUsedAt}` : ' never used'}`).join('; '),
        r.context.lastUsed.accessKeyLastUsedAt,
        r.routedBy,
        '',
        '',
      ]),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

export const PACKET_JSON_FORMAT = 'rolemap-review-packet/1';

export function packetJson(p: Packet): string {
  return `${JSON.stringify(
    {
      format: PACKET_JSON_FORMAT,
      note: 'Fill decisions[].decision with approve or revoke (and a justification); role last use is per role (anyone), not per person.',
      campaign: p.campaign,
      reviewer: p.reviewer,
      sha256: p.sha256,
      rows: p.rows,
      decisions: p.rows.map((r) => ({ rowId: r.rowId, person: r.person.sAMAccountName, entitlement: `${r.entitlement.kind} ${r.entitlement.name} in ${r.entitlement.accountAlias ?? r.entitlement.accountId}`, decision: '', justification: '' })),
    },
    null,
    2,
  )}\n`;
}

const safeName = (s: string): string => s.replace(/[^A-Za-z0-9._@-]/g, '_');

/**
 * The whole campaign in the CSV layout Entra ID access reviews accept for a custom data provided resource
 * (docs/review-html.md): one file, `DIR/<campaign>--entra-id.csv`, owner-only. Rows whose person has no
 * userPrincipalName cannot be matched to an Entra user and are returned in `skipped`.
 */
export function exportEntraCsv(rec: CampaignRecord, outDir: string): { file: string; rows: number; skipped: { rowId: string; person: string; why: string }[] } {
  const { csv, skipped } = toEntraCsv(rec.campaign, rec.rows);
  const file = join(outDir, `${safeName(rec.campaign.id)}--entra-id.csv`);
  mkdirSync(outDir, { recursive: true, mode: 0o700 });
  writeFileSync(file, csv, { mode: 0o600 });
  return { file, rows: rec.rows.length - skipped.length, skipped: [...skipped] };
}

export function exportPackets(rec: CampaignRecord, options: { readonly reviewer?: string | undefined; readonly format: 'csv' | 'json' | 'html'; readonly outDir: string }): string[] {
  let packets = buildPackets(rec.campaign, rec.rows);
  if (options.reviewer !== undefined) {
    const want = options.reviewer.toLowerCase();
    packets = packets.filter((p) => p.reviewer.userPrincipalName.toLowerCase() === want);
    if (packets.length === 0) throw new InvalidInputError(`--reviewer ${options.reviewer} reviews nothing in campaign ${rec.campaign.id}`);
  }
  const render = options.format === 'csv' ? packetCsv : options.format === 'json' ? packetJson : renderPacketHtml;
  const contents = packets.map((p) => [join(options.outDir, `${safeName(rec.campaign.id)}--${safeName(p.reviewer.userPrincipalName)}.${options.format}`), render(p)] as const);
  // Packets name people and their access: readable by the owner only.
  mkdirSync(options.outDir, { recursive: true, mode: 0o700 });
  for (const [file, text] of contents) writeFileSync(file, text, { mode: 0o600 });
  return contents.map(([f]) => f);
}

// ---------- decisions ----------

function decisionLinesFromCsv(text: string, file: string): DecisionInput[] {
  const records = parseCsv(text, file);
  const header = records[0];
  if (header === undefined) throw new InvalidInputError(`${file}: empty file; expected a filled review packet (CSV with a header line)`);
  const col = (name: string): number => {
    const i = header.fields.findIndex((f) => f.trim().toLowerCase() === name);
    if (i < 0) throw new InvalidInputError(`${file} line ${header.line}: no "${name}" column; expected the header of a rolemap review packet`);
    return i;
  };
  const [c, h, r, rv, d, j] = ['campaign_id', 'packet_sha256', 'row_id', 'reviewer', 'decision', 'justification'].map(col) as [number, number, number, number, number, number];
  const unq = (s: string | undefined): string => (s ?? '').replace(/^'(?=[=+\-@\t\r])/, '');
  return records.slice(1).map((rec) => {
    if (rec.fields.length !== header.fields.length) throw new InvalidInputError(`${file} line ${rec.line}: ${rec.fields.length} fields, the header has ${header.fields.length}`);
    return { line: rec.line, campaignId: rec.fields[c] ?? '', packetSha256: rec.fields[h] ?? '', rowId: rec.fields[r] ?? '', reviewer: rec.fields[rv] ?? '', decision: rec.fields[d] ?? '', justification: unq(rec.fields[j]) };
  });
}

function decisionLinesFromJson(text: string, file: string): DecisionInput[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new InvalidInputError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const o = doc as { format?: unknown; campaign?: { id?: unknown }; reviewer?: { userPrincipalName?: unknown }; sha256?: unknown; decisions?: unknown };
  if (typeof o !== 'object' || o === null || o.format !== PACKET_JSON_FORMAT || !Array.isArray(o.decisions)) {
    throw new InvalidInputError(`${file}: not a rolemap review packet (expected "format": "${PACKET_JSON_FORMAT}" and a "decisions" array)`);
  }
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  return (o.decisions as unknown[]).map((d, i) => {
    const x = (typeof d === 'object' && d !== null ? d : {}) as { rowId?: unknown; decision?: unknown; justification?: unknown };
    return { line: i + 1, campaignId: str(o.campaign?.id), packetSha256: str(o.sha256), rowId: str(x.rowId), reviewer: str(o.reviewer?.userPrincipalName), decision: str(x.decision), justification: str(x.justification) };
  });
}

export function readDecisionFile(file: string): DecisionInput[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InvalidInputError(`${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const ext = extname(file).toLowerCase();
  const json = ext === '.json' || (ext !== '.csv' && text.trimStart().startsWith('{'));
  const lines = json ? decisionLinesFromJson(text, file) : decisionLinesFromCsv(text, file);
  return lines;
}

/**
 * Imports filled packets: every file is checked first, and only when all are sound are their decisions
 * journaled (in one transaction), so a bad file among many leaves nothing half-imported.
 */
export function importDecisions(db: SqliteDatabase, campaignId: string, files: string | readonly string[], now: Date): { decisions: Decision[]; skipped: number } {
  const rec = requireCampaign(db, campaignId);
  const validated: { file: string; decisions: Decision[] }[] = [];
  let skipped = 0;
  const problems: string[] = [];
  const seen = new Map<string, string>();
  const validate = decisionValidator(rec.campaign, rec.rows);
  for (const file of typeof files === 'string' ? [files] : files) {
    const lines = readDecisionFile(file);
    // In a JSON packet a "line" is the position in decisions[] (1-based).
    const where = extname(file).toLowerCase() === '.json' ? `${file} decisions[] entry` : file;
    const result = validate(lines, now.toISOString(), where);
    if (!result.ok) {
      problems.push(...result.errors);
      continue;
    }
    for (const d of result.decisions) {
      const other = seen.get(d.rowId);
      if (other !== undefined) problems.push(`${file}: row ${d.rowId} is also decided in ${other}`);
      seen.set(d.rowId, file);
    }
    validated.push({ file, decisions: result.decisions });
    skipped += result.skipped;
  }
  if (problems.length > 0) {
    const names = typeof files === 'string' ? files : files.join(', ');
    throw new InvalidInputError(`${names}: no decision imported; ${problems.length} problem(s):\n  ${problems.slice(0, 50).join('\n  ')}${problems.length > 50 ? `\n  ... and ${problems.length - 50} more` : ''}`);
  }
  // One transaction for every file: all imported, or (a crash) none.
  const decisions = validated.flatMap((v) => v.decisions);
  recordDecisions(db, rec.campaign.id, now.toISOString(), decisions);
  return { decisions, skipped };
}

// ---------- status and report ----------

export function campaignStatus(rec: CampaignRecord, now: Date): ReturnType<typeof reviewerStatus> {
  return reviewerStatus(rec.campaign, rec.rows, rec.decisions, now);
}

/** Applied changes whose reason carries this campaign's revocations, with their request ids. */
export function executedRevocations(db: SqliteDatabase, rec: CampaignRecord): ExecutedRevocation[] {
  const rows = db
    // The reason is on the change's first (planned) row; the request ids on its applied row, same run and seq.
    .prepare(
      `SELECT p.run_id, p.address, a.at, a.request_ids, p.reason FROM change_events AS p
       JOIN change_events AS a ON a.run_id = p.run_id AND a.seq = p.seq AND a.status = 'applied'
       WHERE p.reason LIKE ? ORDER BY a.id`,
    )
    .all(`%revoked in review ${rec.campaign.name}%`) as { run_id: string; address: string; at: string; request_ids: string | null; reason: string | null }[];
  const latest = latestDecisions(rec.decisions);
  const out: ExecutedRevocation[] = [];
  for (const row of rec.rows) {
    const d = latest.get(row.rowId);
    if (d?.verdict !== 'revoke') continue;
    const { reason } = revocationReason({ row, campaign: rec.campaign, decision: d });
    const hit = rows.find((c) => (c.reason ?? '').includes(`${row.person.sAMAccountName}: ${reason}`) && c.address.includes(row.entitlement.name));
    if (hit === undefined) continue;
    let ids: string[] = [];
    try {
      ids = hit.request_ids === null ? [] : (JSON.parse(hit.request_ids) as string[]);
    } catch {
      ids = hit.request_ids === null ? [] : [hit.request_ids];
    }
    out.push({ rowId: row.rowId, personGuid: row.person.objectGUID, entitlement: `${row.entitlement.kind} ${row.entitlement.name} in ${row.entitlement.accountId}`, runId: hit.run_id, changeAddress: hit.address, requestIds: ids, at: hit.at });
  }
  return out;
}

export function campaignReport(db: SqliteDatabase, rec: CampaignRecord, now: Date): ReportModel {
  const v = verifyJournal(db);
  return buildReport({
    campaign: rec.campaign,
    ifNoDecision: rec.ifNoDecision,
    rows: rec.rows,
    decisions: rec.decisions,
    executedRevocations: executedRevocations(db, rec),
    journalVerify: { ok: v.ok, rows: v.changeRows + v.reviewEvents, message: v.ok ? `journal verified: ${v.changeRows} change rows, ${v.reviewEvents} review rows, chain head ${v.head?.hash ?? 'none'}` : v.problems.map((p) => p.message).join('; ') },
    now,
  });
}

export function reportCsv(report: ReportModel): string {
  const decided = new Map(report.decisions.map((d) => [d.rowId, d]));
  const executed = new Map(report.executedRevocations.map((x) => [x.rowId, x]));
  const undecided = new Set(report.undecided.rowIds);
  const lines = [
    csvLine(['campaign_id', 'row_id', 'person_guid', 'sam_account_name', 'display_name', 'kind', 'account_id', 'entitlement', 'granting_group', 'reviewer', 'routed_by', 'status', 'decision', 'justification', 'decided_by', 'decided_at', 'revocation_run', 'revocation_change', 'request_ids', 'journal_verify']),
  ];
  const now = new Date(report.generatedAt);
  for (const r of report.population) {
    const d = decided.get(r.rowId);
    const x = executed.get(r.rowId);
    const status = d !== undefined ? rowStatus(report.campaign, d, now) : undefined;
    lines.push(
      csvLine([
        report.campaign.id,
        r.rowId,
        r.person.objectGUID,
        r.person.sAMAccountName,
        r.person.displayName,
        r.entitlement.kind,
        r.entitlement.accountId,
        r.entitlement.name,
        r.entitlement.group?.name,
        r.reviewer.userPrincipalName,
        r.routedBy,
        status ?? (undecided.has(r.rowId) ? `overdue (ifNoDecision: ${report.undecided.ifNoDecision})` : 'pending'),
        d?.verdict,
        d?.justification,
        d?.reviewer,
        d?.decidedAt,
        x?.runId,
        x?.changeAddress,
        x?.requestIds.join(' '),
        report.journalVerify.ok ? 'ok' : 'FAILED',
      ]),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

export function writeReport(report: ReportModel, format: 'csv' | 'html'): string {
  return format === 'csv' ? reportCsv(report) : renderReportHtml(report);
}
