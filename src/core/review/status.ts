/** Per-reviewer progress of a campaign (pure). */
import { reviewerKey } from './packet.js';
import type { Campaign, Decision, Reviewer, ReviewerStatus, ReviewRow, RowStatus } from './types.js';

/** The decision that counts per row: the latest imported. */
export function latestDecisions(decisions: readonly Decision[]): Map<string, Decision> {
  const out = new Map<string, Decision>();
  for (const d of decisions) out.set(d.rowId, d); // journal order: later imports win
  return out;
}

export function rowStatus(campaign: Campaign, decision: Decision | undefined, now: Date): RowStatus {
  if (decision !== undefined) return decision.verdict === 'approve' ? 'approved' : 'revoked';
  return now.getTime() > Date.parse(campaign.due) ? 'overdue' : 'pending';
}

export function reviewerStatus(campaign: Campaign, rows: readonly ReviewRow[], decisions: readonly Decision[], now: Date): ReviewerStatus[] {
  const latest = latestDecisions(decisions);
  const by = new Map<string, { reviewer: Reviewer; rows: number; approved: number; revoked: number; pending: number; overdue: number }>();
  for (const r of rows) {
    const k = reviewerKey(r.reviewer.userPrincipalName);
    let s = by.get(k);
    if (s === undefined) {
      s = { reviewer: r.reviewer, rows: 0, approved: 0, revoked: 0, pending: 0, overdue: 0 };
      by.set(k, s);
    }
    s.rows++;
    const st = rowStatus(campaign, latest.get(r.rowId), now);
    if (st === 'approved') s.approved++;
    else if (st === 'revoked') s.revoked++;
    else if (st === 'pending') s.pending++;
    else s.overdue++;
  }
  return [...by.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => s);
}
