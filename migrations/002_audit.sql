-- rolemap journal, schema 2: entitlement snapshots (who had what, when), name lookups and the audit views.

-- One header per snapshot, hash-chained like change_events (its own chain). `digest` is the sha256 of
-- the snapshot's entitlement rows in canonical order, so an edited entitlement breaks its header's hash.
CREATE TABLE entitlement_snapshots (
  id           INTEGER PRIMARY KEY,
  run_id       TEXT NOT NULL REFERENCES runs (id),
  at           TEXT NOT NULL,                -- the moment the snapshot describes
  entitlements INTEGER NOT NULL,
  digest       TEXT NOT NULL,
  prev_hash    TEXT NOT NULL,
  hash         TEXT NOT NULL
) STRICT;
CREATE INDEX entitlement_snapshots_at ON entitlement_snapshots (at, id);

-- Every grant in a snapshot: a full picture, so access at T is the latest snapshot at or before T.
CREATE TABLE entitlements (
  snapshot_id    INTEGER NOT NULL REFERENCES entitlement_snapshots (id),
  user_guid      TEXT NOT NULL,
  user_name      TEXT NOT NULL,              -- sAMAccountName
  account        TEXT NOT NULL,
  kind           TEXT NOT NULL,              -- iam_role | permission_set
  target         TEXT NOT NULL,              -- role or permission set name
  via_group_guid TEXT NOT NULL,
  via_group_name TEXT NOT NULL
) STRICT;
CREATE INDEX entitlements_snapshot_user ON entitlements (snapshot_id, user_guid);

-- Names a principal was seen under (sAMAccountName, UPN / Identity Center user name, email, group name),
-- so `--user jdoe@example.com` finds the objectGUID. A lookup aid, not evidence: not hash-chained.
CREATE TABLE principal_aliases (
  alias TEXT NOT NULL COLLATE NOCASE,
  guid  TEXT NOT NULL,
  type  TEXT NOT NULL,                       -- user | group
  PRIMARY KEY (alias, guid)
) STRICT, WITHOUT ROWID;

-- Names already in the log (written by schema 1) become aliases too.
INSERT OR IGNORE INTO principal_aliases (alias, guid, type)
  SELECT DISTINCT principal_name, principal_guid,
    CASE WHEN kind = 'identitystore_group' OR principal_guid = group_guid THEN 'group' ELSE 'user' END
  FROM change_events WHERE principal_guid IS NOT NULL AND principal_name IS NOT NULL;
INSERT OR IGNORE INTO principal_aliases (alias, guid, type)
  SELECT DISTINCT group_name, group_guid, 'group' FROM change_events WHERE group_guid IS NOT NULL AND group_name IS NOT NULL;

-- `--user` and `--group` resolve names to guids through principal_aliases, then use these.
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
