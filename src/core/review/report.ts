/** The auditor's evidence for one campaign (pure): population, decisions, executed revocations, verify result. */
import { latestDecisions, reviewerStatus } from './status.js';
import type { Campaign, Decision, ExecutedRevocation, ReportModel, ReviewRow } from './types.js';

export interface ReportInput {
  readonly campaign: Campaign;
  readonly ifNoDecision: 'keep' | 'revoke';
  readonly rows: readonly ReviewRow[];
  readonly decisions: readonly Decision[];
  readonly executedRevocations: readonly ExecutedRevocation[];
  readonly journalVerify: ReportModel['journalVerify'];
  readonly now: Date;
}

export function buildReport(input: ReportInput): ReportModel {
  const latest = latestDecisions(input.decisions);
  const pastDue = input.now.getTime() > Date.parse(input.campaign.due);
  return {
    campaign: input.campaign,
    generatedAt: input.now.toISOString(),
    population: input.rows,
    decisions: input.rows.map((r) => latest.get(r.rowId)).filter((d): d is Decision => d !== undefined),
    undecided: { ifNoDecision: input.ifNoDecision, rowIds: pastDue ? input.rows.filter((r) => !latest.has(r.rowId)).map((r) => r.rowId) : [] },
    executedRevocations: input.executedRevocations,
    journalVerify: input.journalVerify,
    reviewers: reviewerStatus(input.campaign, input.rows, input.decisions, input.now),
  };
}
