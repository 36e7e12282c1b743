-- rolemap journal, schema 4: plans handed out to be applied later, operators' approvals of refused plans, and run pids.

-- Append-only and hash-chained (a chain of its own, of the same form as change_events). `plan_hash` is
-- the sha256 of the plan's canonical JSON. One row per event:
--   saved    a plan written out to be applied later (`reconcile --plan-out FILE`, `--json`)
--   refused  the daemon's plan that the safety checks refused, awaiting approval (with the whole plan)
--   approved `rolemap approve RUN`: an operator approved that run's plan (who, from the OS)
--   used     the daemon used an approval (`by_run_id`), whatever came of it (`detail`)
--   cleared  a refusal no longer awaits approval (`by_run_id` planned, or applied the approved plan)
-- `run_id` is always the run that made the plan.
CREATE TABLE plan_records (
  id           INTEGER PRIMARY KEY,
  at           TEXT NOT NULL,
  event        TEXT NOT NULL CHECK (event IN ('saved', 'refused', 'approved', 'used', 'cleared')),
  run_id       TEXT NOT NULL,
  plan_hash    TEXT NOT NULL,
  plan_json    TEXT,                         -- refused: the plan, applied exactly as approved
  refusal_code TEXT,                         -- refused, approved: deletion-threshold | directory-too-small
  changes      INTEGER,                      -- saved, refused, approved: the number of changes
  by_run_id    TEXT,                         -- used, cleared: the daemon run that did it
  os_uid       INTEGER,                      -- approved: the approving process's uid and user name (from the OS),
  os_user      TEXT,
  sudo_user    TEXT,                         -- $SUDO_USER as the environment claimed it (not verified)
  host         TEXT,
  detail       TEXT,
  prev_hash    TEXT NOT NULL,
  hash         TEXT NOT NULL
) STRICT;
CREATE INDEX plan_records_hash ON plan_records (plan_hash);
CREATE INDEX plan_records_run ON plan_records (run_id, event);

-- The process that runs each run, so a later run can close a dry run whose process died (a dry run
-- holds no lock, so only a dead process's open dry run is known to be over).
ALTER TABLE runs ADD COLUMN pid INTEGER;
