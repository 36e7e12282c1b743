/**
 * The review chain in a real SQLite journal: a campaign and its decisions round-trip, `journal verify`
 * counts them, and an edited, deleted or appended review row is found.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteJournal } from '../../../src/adapters/journal/sqlite-journal.js';
import { loadCampaign, recordCampaign, recordDecisions } from '../../../src/adapters/journal/review-journal.js';
import { verifyJournal } from '../../../src/adapters/journal/verify.js';
import type { Campaign, ReviewRow } from '../../../src/core/review/types.js';
import { tempDir } from './fixtures.js';

const CAMPAIGN: Campaign = { id: 'Q1-2027', name: 'Q1-2027', scope: { accounts: [], groups: [] }, createdAt: '2027-01-01T00:00:00.000Z', due: '2027-01-15T00:00:00.000Z', population: { people: 2, rows: 2, reviewers: 1 } };
const row = (sam: string, id: string): ReviewRow => ({
  campaignId: 'Q1-2027',
  rowId: id,
  person: { objectGUID: `7e000000-0000-4000-8000-0000000000${id.slice(0, 2)}`, sAMAccountName: sam },
  entitlement: { kind: 'federated-role', accountId: '333333333333', name: 'Developer' },
  context: { policies: [], lastUsed: { perRoleNotPerPerson: true } },
  reviewer: { userPrincipalName: 'mmeyer@corp.example' },
  routedBy: 'manager',
});

let tmp: ReturnType<typeof tempDir>;
let journal: SqliteJournal;
beforeEach(() => {
  tmp = tempDir();
  journal = SqliteJournal.open(tmp.file('j.db'));
  recordCampaign(journal.database, CAMPAIGN, 'revoke', [row('jdoe', 'b1aaaaaaaaaaaaaa'), row('asmith', 'b2aaaaaaaaaaaaaa')]);
  recordDecisions(journal.database, 'Q1-2027', '2027-01-12T10:00:00.000Z', [{ campaignId: 'Q1-2027', rowId: 'b1aaaaaaaaaaaaaa', verdict: 'revoke', justification: 'moved', reviewer: 'mmeyer@corp.example', decidedAt: '2027-01-12T10:00:00.000Z', packetSha256: 'x' }]);
});
afterEach(() => {
  journal.close();
  tmp.cleanup();
});

describe('review chain', () => {
  it('round-trips the campaign, its rows and decisions, and verifies: campaign + 2 rows + reviewer + seal, decision + seal', () => {
    const rec = loadCampaign(journal.database, 'Q1-2027');
    expect(rec?.ifNoDecision).toBe('revoke');
    expect(rec?.rows.map((r) => r.person.sAMAccountName)).toEqual(['jdoe', 'asmith']);
    expect(rec?.decisions.map((d) => [d.rowId, d.verdict])).toEqual([['b1aaaaaaaaaaaaaa', 'revoke']]);
    const v = verifyJournal(journal.database);
    expect(v.ok).toBe(true);
    expect(v.reviewEvents).toBe(7);
  });

  it('finds an edited decision, a deleted row and rows appended after the last seal', () => {
    journal.database.prepare("UPDATE review_events SET body_json = replace(body_json, '\"revoke\"', '\"approve\"') WHERE type = 'decision'").run();
    expect(verifyJournal(journal.database).problems.map((p) => [p.table, p.row, p.message])).toEqual([['review_events', 6, 'review event 6 (decision b1aaaaaaaaaaaaaa, campaign Q1-2027) was altered: its hash does not match its content']]);
    journal.database.prepare('DELETE FROM review_events WHERE id = 3').run();
    expect(verifyJournal(journal.database).problems.map((p) => p.message)).toContain('review event(s) 3 were deleted: review event 4 (reviewer, campaign Q1-2027) is the next');
  });

  it('finds a row appended without a seal', () => {
    const last = journal.database.prepare('SELECT id, hash FROM review_events ORDER BY id DESC LIMIT 1').get() as { id: number; hash: string };
    journal.database.prepare("INSERT INTO review_events (id, campaign_id, at, type, row_id, subject, body_json, prev_hash, hash) VALUES (?, 'Q1-2027', 'now', 'decision', 'b2aaaaaaaaaaaaaa', NULL, '{}', ?, 'bogus')").run(last.id + 1, last.hash);
    const messages = verifyJournal(journal.database).problems.map((p) => p.message);
    expect(messages).toContain(`review event(s) ${last.id + 1}-${last.id + 1} come after the last seal: inserted`);
  });
});
