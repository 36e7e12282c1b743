/**
 * The HTML packet and report (and the Entra ID CSV) for `rolemap review export|report`: the renderers
 * are pure and live in the core (src/core/review/render-html.ts, entra-csv.ts); this is where the shell
 * takes them from.
 */
export { renderPacketHtml, renderReportHtml } from '../../core/review/render-html.js';
export { renderEntraCsv, toEntraCsv } from '../../core/review/entra-csv.js';
