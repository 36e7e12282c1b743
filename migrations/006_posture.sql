-- rolemap journal: the credential and root posture report (`rolemap posture`), one row per report run and
-- one row per finding that opened or was resolved in it, so `rolemap journal posture --as-of` can say what
-- was open on a day, since when, and when it was resolved.
--
-- Both tables are hash chains of the form change_events uses: row n stores prev_hash = hash of row n-1
-- (GENESIS for row 1) and hash = sha256(prev_hash + "\n" + canonical JSON of its columns, id included).
-- A posture run also records the events chain's head after its own rows (events_head_id / _hash), so cut
-- off events are caught as well as edited ones. `journal verify` walks both.
CREATE TABLE posture_runs (
  id               INTEGER PRIMARY KEY,
  run_id           TEXT NOT NULL UNIQUE,
  at               TEXT NOT NULL,
  accounts_json    TEXT NOT NULL,   -- account ids read
  failed_json      TEXT NOT NULL,   -- [{account, error}] that could not be read (their findings stay open)
  open_findings    INTEGER NOT NULL,
  events_head_id   INTEGER NOT NULL,
  events_head_hash TEXT NOT NULL,
  prev_hash        TEXT NOT NULL,
  hash             TEXT NOT NULL
) STRICT;

CREATE TABLE posture_events (
  id             INTEGER PRIMARY KEY,
  run_id         TEXT NOT NULL REFERENCES posture_runs (run_id),
  at             TEXT NOT NULL,
  event          TEXT NOT NULL CHECK (event IN ('opened', 'resolved')),
  finding_id     TEXT NOT NULL,
  kind           TEXT NOT NULL,
  severity       TEXT NOT NULL,
  account        TEXT NOT NULL,
  account_alias  TEXT NOT NULL,
  principal      TEXT NOT NULL,
  detail         TEXT NOT NULL,
  fix            TEXT NOT NULL,
  prev_hash      TEXT NOT NULL,
  hash           TEXT NOT NULL
) STRICT;
CREATE INDEX posture_events_finding ON posture_events (finding_id, id);
CREATE INDEX posture_events_at ON posture_events (at);
