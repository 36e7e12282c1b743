/**
 * Findings over time. Each posture run journals what changed: a finding `opened` (first seen, or seen
 * again after it was resolved) or `resolved` (open before, absent now in an account this run read).
 * An account the run did not read (not asked for, or its read failed) keeps its findings open.
 */
import type { Finding } from './types.js';

export interface FindingEvent {
  readonly event: 'opened' | 'resolved';
  readonly finding: Finding;
}

/** One finding as the journal tells its story. */
export interface FindingHistory {
  readonly finding: Finding;
  readonly openedAt: string;
  /** When it was resolved (after the as-of moment, when asked as of a day), or null while still open. */
  readonly resolvedAt: string | null;
}

export function diffFindings(open: ReadonlyMap<string, Finding>, current: readonly Finding[], accountsRead: ReadonlySet<string>): FindingEvent[] {
  const now = new Map(current.map((f) => [f.id, f]));
  const events: FindingEvent[] = [];
  for (const f of current) if (!open.has(f.id)) events.push({ event: 'opened', finding: f });
  for (const [id, f] of open) if (accountsRead.has(f.account) && !now.has(id)) events.push({ event: 'resolved', finding: f });
  return events;
}

/**
 * What was open at `asOf` (ISO instant), from the events in journal order: each with when it (last)
 * opened and when it was resolved afterwards, if it was.
 */
export function openAsOf(events: readonly { readonly at: string; readonly event: 'opened' | 'resolved'; readonly finding: Finding }[], asOf: string): FindingHistory[] {
  const state = new Map<string, { finding: Finding; openedAt: string; resolvedAt: string | null }>();
  for (const e of events) {
    const cur = state.get(e.finding.id);
    if (e.at <= asOf) {
      if (e.event === 'opened') state.set(e.finding.id, { finding: e.finding, openedAt: e.at, resolvedAt: null });
      else state.delete(e.finding.id);
    } else if (e.event === 'resolved' && cur !== undefined && cur.resolvedAt === null) {
      cur.resolvedAt = e.at;
    }
  }
  return [...state.values()].sort((a, b) => (a.finding.id < b.finding.id ? -1 : 1));
}
