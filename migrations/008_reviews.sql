-- rolemap journal: access reviews (`rolemap review`, docs/review.md). One append-only table holds a
-- campaign's whole record, in order: the campaign (scope, due date, ifNoDecision), its population (one row
-- per person and entitlement, with the reviewer it was routed to), its reviewers (with their packet's
-- sha256), and every imported decision.
--
-- It is a hash chain of the form change_events uses: row n stores prev_hash = hash of row n-1 (GENESIS for
-- row 1) and hash = sha256(prev_hash + "\n" + canonical JSON of its columns, id included). Each campaign
-- and each decision import ends with a 'seal' row naming the rows it wrote, so cut-off rows are caught as
-- well as edited ones. `journal verify` walks it.
CREATE TABLE review_events (
  id           INTEGER PRIMARY KEY,
  campaign_id  TEXT NOT NULL,
  at           TEXT NOT NULL,
  type         TEXT NOT NULL CHECK (type IN ('campaign', 'row', 'reviewer', 'decision', 'seal')),
  row_id       TEXT,           -- population row id (row, decision)
  subject      TEXT,           -- the person's objectGUID (row, decision) or the reviewer's UPN (reviewer)
  body_json    TEXT NOT NULL,  -- the Campaign, ReviewRow, reviewer + packet sha256, Decision, or seal {first, last}
  prev_hash    TEXT NOT NULL,
  hash         TEXT NOT NULL
) STRICT;
CREATE INDEX review_events_campaign ON review_events (campaign_id, type, id);
