/**
 * Importing decisions (pure): a filled packet (CSV or JSON, parsed by the shell into DecisionInput lines)
 * is checked against the campaign's packets as a whole. One bad line refuses the whole file, so nothing is
 * half-imported; every problem names the file's line and the row.
 */
import { packetHash, reviewerKey } from './packet.js';
import type { Campaign, Decision, DecisionVerdict, ReviewRow } from './types.js';

export interface DecisionInput {
  /** Line in the file (CSV line, or the JSON array index + 1) for messages. */
  readonly line: number;
  readonly campaignId: string;
  readonly packetSha256: string;
  readonly rowId: string;
  /** `approve`, `revoke` (any case), or empty: not decided yet (skipped). */
  readonly decision: string;
  readonly justification: string;
  readonly reviewer: string;
}

export type DecisionImport =
  | { readonly ok: true; readonly decisions: Decision[]; readonly skipped: number }
  | { readonly ok: false; readonly errors: string[] };

export function validateDecisions(campaign: Campaign, population: readonly ReviewRow[], lines: readonly DecisionInput[], decidedAt: string, where: string): DecisionImport {
  return decisionValidator(campaign, population)(lines, decidedAt, where);
}

/** The population indexed once (rows by id, packet hashes by reviewer), for importing many files. */
export function decisionValidator(campaign: Campaign, population: readonly ReviewRow[]): (lines: readonly DecisionInput[], decidedAt: string, where: string) => DecisionImport {
  const rows = new Map(population.map((r) => [r.rowId, r]));
  const hashes = new Map<string, string>();
  const byReviewer = new Map<string, ReviewRow[]>();
  for (const r of population) {
    const k = reviewerKey(r.reviewer.userPrincipalName);
    const list = byReviewer.get(k);
    if (list) list.push(r);
    else byReviewer.set(k, [r]);
  }
  const hashOf = (reviewer: string): string | undefined => {
    const k = reviewerKey(reviewer);
    if (!hashes.has(k)) {
      const list = byReviewer.get(k);
      if (list === undefined) return undefined;
      hashes.set(k, packetHash(campaign.id, reviewer, list));
    }
    return hashes.get(k);
  };
  return (lines, decidedAt, where) => {
  const errors: string[] = [];
  const decisions: Decision[] = [];
  const seen = new Map<string, number>();
  let skipped = 0;
  for (const l of lines) {
    const at = `${where} line ${l.line}`;
    const rowName = `row ${l.rowId || '(no row id)'}`;
    if (l.campaignId !== campaign.id) {
      errors.push(`${at}: ${rowName} is for campaign "${l.campaignId}", not "${campaign.id}"`);
      continue;
    }
    const row = rows.get(l.rowId);
    if (row === undefined) {
      errors.push(`${at}: ${rowName} was not in the population of campaign ${campaign.id}`);
      continue;
    }
    const what = `${rowName} (${row.person.sAMAccountName}, ${row.entitlement.kind} ${row.entitlement.name} in ${row.entitlement.accountAlias ?? row.entitlement.accountId})`;
    const verdict = l.decision.trim().toLowerCase();
    if (verdict === '') {
      skipped++;
      continue;
    }
    if (verdict !== 'approve' && verdict !== 'revoke') {
      errors.push(`${at}: ${what}: decision "${l.decision}" is neither approve nor revoke`);
      continue;
    }
    if (reviewerKey(l.reviewer.trim()) !== reviewerKey(row.reviewer.userPrincipalName)) {
      errors.push(`${at}: ${what} was decided by "${l.reviewer}", who is not its reviewer (${row.reviewer.userPrincipalName})`);
      continue;
    }
    const expected = hashOf(row.reviewer.userPrincipalName);
    if (l.packetSha256.trim().toLowerCase() !== expected) {
      errors.push(`${at}: ${what}: packet sha256 ${l.packetSha256 || '(none)'} does not match the packet of ${row.reviewer.userPrincipalName} (${expected ?? '?'}): the file is from another packet or was altered`);
      continue;
    }
    const dup = seen.get(l.rowId);
    if (dup !== undefined) {
      errors.push(`${at}: ${what} is decided twice in this file (also line ${dup})`);
      continue;
    }
    seen.set(l.rowId, l.line);
    decisions.push({ campaignId: campaign.id, rowId: l.rowId, verdict: verdict as DecisionVerdict, justification: l.justification.trim(), reviewer: row.reviewer.userPrincipalName, decidedAt, packetSha256: expected });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, decisions, skipped };
  };
}
