/**
 * Packets (pure): one per reviewer, sealed by a sha256 over its canonical JSON, so a decision file can be
 * matched to exactly the packet it was filled from.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../plan/canonical-json.js';
import type { Campaign, Packet, Reviewer, ReviewRow } from './types.js';

export const reviewerKey = (upn: string): string => upn.toLowerCase();

/** sha256 (hex) of canonicalJson({ campaignId, reviewer (UPN, lower case), rows }). */
export function packetHash(campaignId: string, reviewer: string, rows: readonly ReviewRow[]): string {
  return createHash('sha256').update(canonicalJson({ campaignId, reviewer: reviewerKey(reviewer), rows })).digest('hex');
}

/** One packet per reviewer, ordered by reviewer UPN; rows keep the population's order. */
export function buildPackets(campaign: Campaign, rows: readonly ReviewRow[]): Packet[] {
  const by = new Map<string, { reviewer: Reviewer; rows: ReviewRow[] }>();
  for (const r of rows) {
    const k = reviewerKey(r.reviewer.userPrincipalName);
    const p = by.get(k);
    if (p) p.rows.push(r);
    else by.set(k, { reviewer: r.reviewer, rows: [r] });
  }
  return [...by.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, p]) => ({ campaign, reviewer: p.reviewer, rows: p.rows, sha256: packetHash(campaign.id, p.reviewer.userPrincipalName, p.rows) }));
}
