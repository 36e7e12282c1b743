-- rolemap journal: run seals, a `refused` change status, and principal aliases typed right.

-- A run's row changes while it runs (plan summary, outcome, directory counts, chain head); once it has
-- finished it never changes again. Its final content is then sealed: one row here, hash-chained like
-- change_events, whose `hash` = sha256(prev_hash + "\n" + canonical JSON of [id, run_id, the runs row's
-- columns]). `journal verify` recomputes every seal, so an edited outcome or error of a finished run is
-- caught. Runs that finished before this schema have no seal; verify counts them apart.
CREATE TABLE run_seals (
  id        INTEGER PRIMARY KEY,
  run_id    TEXT NOT NULL UNIQUE REFERENCES runs (id),
  prev_hash TEXT NOT NULL,
  hash      TEXT NOT NULL
) STRICT;

-- Schema 2 recorded the AD group of a federated role as a "user" alias (a role's principal is its
-- group), and an alias is one row per (alias, guid), so the later "group" row was ignored and
-- `journal list --group NAME` found nothing. A guid is one AD object: a group wherever it was seen as one.
UPDATE principal_aliases SET type = 'group'
WHERE type <> 'group' AND (
  guid IN (SELECT via_group_guid FROM entitlements)
  OR guid IN (SELECT group_guid FROM change_events WHERE group_guid IS NOT NULL)
);

-- A refused apply's changes end as `refused`, as the run does (they stayed `pending` for ever). SQLite
-- cannot alter a CHECK constraint, so change_events is rebuilt with the same columns and rows (the
-- hashes cover the columns, not the table, so the chain is unchanged), then its indexes and the view.
DROP VIEW changes;
CREATE TABLE change_events_v3 (
  id             INTEGER PRIMARY KEY,
  run_id         TEXT NOT NULL REFERENCES runs (id),
  seq            INTEGER NOT NULL,
  at             TEXT NOT NULL,
  status         TEXT NOT NULL CHECK (status IN ('planned', 'pending', 'intent', 'applied', 'failed', 'skipped', 'interrupted', 'refused')),
  action         TEXT NOT NULL,
  kind           TEXT NOT NULL,
  resource_key   TEXT NOT NULL,
  address        TEXT NOT NULL,
  account        TEXT NOT NULL,
  principal_guid TEXT,
  principal_name TEXT,
  group_guid     TEXT,
  group_name     TEXT,
  leaver_reason  TEXT,
  before_json    TEXT,
  after_json     TEXT,
  diffs_json     TEXT,
  reason         TEXT,
  error          TEXT,
  request_ids    TEXT,
  detail_json    TEXT,
  prev_hash      TEXT NOT NULL,
  hash           TEXT NOT NULL
) STRICT;
INSERT INTO change_events_v3 SELECT * FROM change_events ORDER BY id;
DROP TABLE change_events;
ALTER TABLE change_events_v3 RENAME TO change_events;
CREATE INDEX change_events_run_seq ON change_events (run_id, seq, id);
CREATE INDEX change_events_principal_guid ON change_events (principal_guid);
CREATE INDEX change_events_group_guid ON change_events (group_guid);
CREATE INDEX change_events_at ON change_events (at);

-- One line per change with its final status: content from its first row, status from its last.
CREATE VIEW changes AS
SELECT
  l.id             AS event_id,        -- the row with the final status
  f.id             AS first_event_id,  -- the row that first recorded the change (plan or intent)
  l.run_id         AS run_id,
  l.seq            AS seq,
  f.at             AS recorded_at,
  l.at             AS at,
  l.status         AS status,
  l.action         AS action,
  l.kind           AS kind,
  l.resource_key   AS resource_key,
  l.address        AS address,
  l.account        AS account,
  l.principal_guid AS principal_guid,
  l.principal_name AS principal_name,
  l.group_guid     AS group_guid,
  l.group_name     AS group_name,
  l.leaver_reason  AS leaver_reason,
  f.before_json    AS before_json,
  f.after_json     AS after_json,
  f.diffs_json     AS diffs_json,
  f.reason         AS reason,
  l.error          AS error,
  l.request_ids    AS request_ids,
  l.detail_json    AS detail_json
FROM change_events AS l
JOIN change_events AS f
  ON f.id = (SELECT min(x.id) FROM change_events AS x WHERE x.run_id = l.run_id AND x.seq = l.seq)
WHERE NOT EXISTS (SELECT 1 FROM change_events AS n WHERE n.run_id = l.run_id AND n.seq = l.seq AND n.id > l.id);
