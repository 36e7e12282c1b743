-- rolemap journal, schema 1: runs, the hash-chained change log, and the ownership registry.
-- Never edit this file once released: add a new migration instead (the runner refuses a changed one).

-- One row per reconciliation (dry run, apply or saved plan). Updated once, when the run finishes.
CREATE TABLE runs (
  id               TEXT PRIMARY KEY,
  trigger          TEXT NOT NULL,            -- cli | daemon | demo | test
  mode             TEXT NOT NULL,            -- dry-run | apply | saved-plan
  host             TEXT NOT NULL,
  version          TEXT NOT NULL,            -- rolemap version
  config_hash      TEXT NOT NULL,            -- sha256 of the config file bytes
  directory_users  INTEGER,
  directory_groups INTEGER,
  started_at       TEXT NOT NULL,            -- ISO 8601 UTC
  finished_at      TEXT,
  outcome          TEXT,                     -- no-changes | planned | applied | partial | failed | refused | interrupted
  error            TEXT,
  plan_created_at  TEXT,
  plan_summary     TEXT,                     -- JSON {add, change, destroy, leavers}
  plan_refusal     TEXT,                     -- JSON {code, message} when the safety checks refused the plan
  plan_warnings    TEXT,                     -- JSON array
  chain_head_id    INTEGER,                  -- last change_events row when the run finished (anchor for verify)
  chain_head_hash  TEXT
) STRICT;

-- Append-only: every status a change goes through is a new row (planned | pending | intent | applied |
-- failed | skipped | interrupted). Rows are never updated or deleted. `id` is the position in the hash
-- chain (1, 2, 3, ... without gaps); `hash` = sha256(prev_hash, canonical content of the row).
CREATE TABLE change_events (
  id             INTEGER PRIMARY KEY,
  run_id         TEXT NOT NULL REFERENCES runs (id),
  seq            INTEGER NOT NULL,           -- the change's position in its plan
  at             TEXT NOT NULL,              -- when this row was written
  status         TEXT NOT NULL CHECK (status IN ('planned', 'pending', 'intent', 'applied', 'failed', 'skipped', 'interrupted')),
  action         TEXT NOT NULL,              -- create | update | delete | revoke | disable
  kind           TEXT NOT NULL,              -- resource kind
  resource_key   TEXT NOT NULL,              -- <kind>:<id>
  address        TEXT NOT NULL,              -- iam_role.prod.Admin
  account        TEXT NOT NULL,
  principal_guid TEXT,                       -- AD objectGUID of the user or group the change is about
  principal_name TEXT,                       -- its sAMAccountName
  group_guid     TEXT,                       -- the AD group concerned (groups, memberships, assignments)
  group_name     TEXT,
  leaver_reason  TEXT,                       -- disabled | expired | removed-from-groups | deleted-from-ad
  before_json    TEXT,                       -- planned / pending / intent rows only
  after_json     TEXT,
  diffs_json     TEXT,
  reason         TEXT,
  error          TEXT,                       -- failed / skipped / interrupted
  request_ids    TEXT,                       -- JSON array of AWS request ids (applied, failed)
  detail_json    TEXT,                       -- extra facts from the target (async request status, ...)
  prev_hash      TEXT NOT NULL,
  hash           TEXT NOT NULL
) STRICT;
CREATE INDEX change_events_run_seq ON change_events (run_id, seq, id);

-- Objects that cannot carry an ownership tag (Identity Center users): which AWS ids rolemap created.
CREATE TABLE owned_objects (
  id         INTEGER PRIMARY KEY,
  scope      TEXT NOT NULL,                  -- e.g. the identity store id
  aws_id     TEXT NOT NULL,
  guid       TEXT NOT NULL,                  -- AD objectGUID
  created_at TEXT NOT NULL,
  removed_at TEXT
) STRICT;
CREATE UNIQUE INDEX owned_objects_active ON owned_objects (scope, aws_id) WHERE removed_at IS NULL;
