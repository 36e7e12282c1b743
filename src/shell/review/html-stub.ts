/**
 * The HTML packet and report come from the review-html work (src/shell/review/html.ts); until it is
 * merged, asking for html says so plainly instead of writing something half-made.
 */
import { InvalidInputError } from '../../core/errors.js';
import type { Packet, ReportModel } from '../../core/review/types.js';

export function renderPacketHtml(packet: Packet): string {
  throw new InvalidInputError(`html: not yet built (packet of ${packet.reviewer.userPrincipalName}); use --format csv or json`);
}

export function renderReportHtml(report: ReportModel): string {
  throw new InvalidInputError(`html: not yet built (report of campaign ${report.campaign.id}); use --format csv`);
}
