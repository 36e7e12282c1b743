/**
 * Access reviews in the journal (migration `*_reviews.sql`): campaigns, their population, reviewers and
 * decisions as rows of one hash chain (`review_events`), each write one synchronous transaction closed by a
 * `seal` row. Reading gives the core's `CampaignRecord`s back.
 */
import { buildPackets } from '../../core/review/packet.js';
import type { CampaignRecord } from '../../core/review/effect.js';
import type { Campaign, Decision, ReviewRow } from '../../core/review/types.js';
import { InvalidInputError } from '../../core/errors.js';
import { GENESIS, chainHash } from './chain.js';
import { inTransaction } from './sqlite.js';
import type { SqliteDatabase } from './sqlite.js';

export const REVIEW_EVENT_COLUMNS = ['id', 'campaign_id', 'at', 'type', 'row_id', 'subject', 'body_json'] as const;
type ReviewEventContent = {
  readonly id: number;
  readonly campaign_id: string;
  readonly at: string;
  readonly type: 'campaign' | 'row' | 'reviewer' | 'decision' | 'seal';
  readonly row_id: string | null;
  readonly subject: string | null;
  readonly body_json: string;
};
type Chained<T> = T & { readonly prev_hash: string; readonly hash: string };

export function reviewEventHash(prev: string, row: ReviewEventContent): string {
  return chainHash(prev, REVIEW_EVENT_COLUMNS.map((c) => row[c]));
}

function append(db: SqliteDatabase, at: string, campaignId: string, events: readonly Omit<ReviewEventContent, 'id' | 'at' | 'campaign_id'>[]): void {
  const head = (db.prepare('SELECT id, hash FROM review_events ORDER BY id DESC LIMIT 1').get() as { id: number; hash: string } | undefined) ?? { id: 0, hash: GENESIS };
  const insert = db.prepare(`INSERT INTO review_events (${REVIEW_EVENT_COLUMNS.join(', ')}, prev_hash, hash) VALUES (${REVIEW_EVENT_COLUMNS.map(() => '?').join(', ')}, ?, ?)`);
  let prev = head.hash;
  let id = head.id;
  const all = [...events, { type: 'seal' as const, row_id: null, subject: null, body_json: JSON.stringify({ first: head.id + 1, last: head.id + events.length }) }];
  for (const e of all) {
    id++;
    const row: ReviewEventContent = { id, campaign_id: campaignId, at, ...e };
    const hash = reviewEventHash(prev, row);
    insert.run(...REVIEW_EVENT_COLUMNS.map((c) => row[c]), prev, hash);
    prev = hash;
  }
}

/** A review write the journal refuses (a campaign id taken): bad input, not a crash. */
export class ReviewJournalError extends InvalidInputError {}

export function campaignExists(db: SqliteDatabase, id: string): boolean {
  return db.prepare("SELECT 1 FROM review_events WHERE campaign_id = ? AND type = 'campaign'").get(id) !== undefined;
}

/** Journals a campaign: header, every population row, every reviewer with their packet's sha256. */
export function recordCampaign(db: SqliteDatabase, campaign: Campaign, ifNoDecision: 'keep' | 'revoke', rows: readonly ReviewRow[]): void {
  inTransaction(db, () => {
    if (campaignExists(db, campaign.id)) throw new ReviewJournalError(`campaign ${campaign.id} already exists in the journal; start it under another --name`);
    const packets = buildPackets(campaign, rows);
    append(db, campaign.createdAt, campaign.id, [
      { type: 'campaign', row_id: null, subject: null, body_json: JSON.stringify({ campaign, ifNoDecision }) },
      ...rows.map((r) => ({ type: 'row' as const, row_id: r.rowId, subject: r.person.objectGUID, body_json: JSON.stringify(r) })),
      ...packets.map((p) => ({ type: 'reviewer' as const, row_id: null, subject: p.reviewer.userPrincipalName, body_json: JSON.stringify({ reviewer: p.reviewer, rows: p.rows.length, packetSha256: p.sha256 }) })),
    ]);
  });
}

export function recordDecisions(db: SqliteDatabase, campaignId: string, at: string, decisions: readonly Decision[]): void {
  if (decisions.length === 0) return;
  inTransaction(db, () => {
    append(
      db,
      at,
      campaignId,
      decisions.map((d) => ({ type: 'decision' as const, row_id: d.rowId, subject: null, body_json: JSON.stringify(d) })),
    );
  });
}

/** Campaign ids, oldest first. */
export function campaignIds(db: SqliteDatabase): string[] {
  if (!hasReviews(db)) return [];
  return (db.prepare("SELECT campaign_id FROM review_events WHERE type = 'campaign' ORDER BY id").all() as { campaign_id: string }[]).map((r) => r.campaign_id);
}

export function hasReviews(db: SqliteDatabase): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'review_events'").get() !== undefined;
}

export function loadCampaign(db: SqliteDatabase, id: string): CampaignRecord | undefined {
  if (!hasReviews(db)) return undefined;
  const head = db.prepare("SELECT body_json FROM review_events WHERE campaign_id = ? AND type = 'campaign'").get(id) as { body_json: string } | undefined;
  if (head === undefined) return undefined;
  const { campaign, ifNoDecision } = JSON.parse(head.body_json) as { campaign: Campaign; ifNoDecision: 'keep' | 'revoke' };
  const rows = (db.prepare("SELECT body_json FROM review_events WHERE campaign_id = ? AND type = 'row' ORDER BY id").all(id) as { body_json: string }[]).map((r) => JSON.parse(r.body_json) as ReviewRow);
  const decisions = (db.prepare("SELECT body_json FROM review_events WHERE campaign_id = ? AND type = 'decision' ORDER BY id").all(id) as { body_json: string }[]).map((r) => JSON.parse(r.body_json) as Decision);
  return { campaign, ifNoDecision, rows, decisions };
}

export function loadCampaigns(db: SqliteDatabase): CampaignRecord[] {
  return campaignIds(db).map((id) => loadCampaign(db, id) as CampaignRecord);
}

/** Earliest entitlement snapshot that shows each grant: `guid\0kind\0account\0target` -> ISO instant. */
export function firstGranted(db: SqliteDatabase): Map<string, string> {
  const rows = db
    .prepare('SELECT e.user_guid AS g, e.kind AS k, e.account AS a, e.target AS t, min(s.at) AS at FROM entitlements AS e JOIN entitlement_snapshots AS s ON s.id = e.snapshot_id GROUP BY e.user_guid, e.kind, e.account, e.target')
    .all() as { g: string; k: string; a: string; t: string; at: string }[];
  return new Map(rows.map((r) => [`${r.g}\u0000${r.k}\u0000${r.a}\u0000${r.t}`, r.at]));
}

export interface ReviewChainProblem {
  readonly table: 'review_events';
  readonly row: number | null;
  readonly runId: string | null;
  readonly kind: 'deleted' | 'altered' | 'broken-link' | 'inserted';
  readonly message: string;
}

/** Walks the review chain; rows after the last seal were inserted (or a write was cut off). */
export function verifyReviewChain(db: SqliteDatabase): { events: number; problems: ReviewChainProblem[] } {
  const problems: ReviewChainProblem[] = [];
  if (!hasReviews(db)) return { events: 0, problems };
  let prevId = 0;
  let prev = GENESIS;
  let events = 0;
  let sealedTo = 0;
  for (const raw of db.prepare('SELECT * FROM review_events ORDER BY id').iterate()) {
    const r = raw as Chained<ReviewEventContent>;
    events++;
    const what = `review event ${r.id} (${r.type}${r.row_id !== null ? ` ${r.row_id}` : ''}, campaign ${r.campaign_id})`;
    const base = { table: 'review_events' as const, row: r.id, runId: null };
    if (r.id !== prevId + 1) problems.push({ ...base, kind: 'deleted', row: prevId + 1, message: `review event(s) ${prevId + 1}${r.id - 1 > prevId + 1 ? `-${r.id - 1}` : ''} were deleted: ${what} is the next` });
    else if (reviewEventHash(r.prev_hash, r) !== r.hash) problems.push({ ...base, kind: 'altered', message: `${what} was altered: its hash does not match its content` });
    else if (r.prev_hash !== prev) problems.push({ ...base, kind: 'broken-link', message: `${what} does not link to review event ${prevId}: it was rewritten or inserted` });
    if (r.type === 'seal') sealedTo = r.id;
    prevId = r.id;
    prev = r.hash;
  }
  if (prevId > sealedTo) problems.push({ table: 'review_events', row: sealedTo + 1, runId: null, kind: 'inserted', message: `review event(s) ${sealedTo + 1}-${prevId} come after the last seal: inserted` });
  return { events, problems };
}
