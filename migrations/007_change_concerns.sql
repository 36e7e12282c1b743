-- rolemap journal: everyone a change concerns, beyond its one principal. A session revocation shared by
-- several leavers and movers (one deny per role or permission set for a layoff) names no single principal
-- or leaver; the plan's `concerns` names each person it cuts. Recorded here so that
-- `journal list --user NAME` shows the revocation that cut that person's sessions. A lookup aid, like
-- principal_aliases, not evidence: not hash-chained (the change rows and their reasons carry the facts).
CREATE TABLE change_concerns (
  guid   TEXT NOT NULL,                       -- AD objectGUID (lower case), as principal_guid
  run_id TEXT NOT NULL,
  seq    INTEGER NOT NULL,
  PRIMARY KEY (guid, run_id, seq)
) STRICT, WITHOUT ROWID;
