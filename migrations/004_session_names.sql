-- rolemap journal, schema 3: the names a person's sessions can carry, kept with each grant, and when a
-- kept grant was last seen in the directory.
--
-- A leaver deleted from AD (or moved out of the user base) is no longer in the directory, yet their live
-- federated sessions carry the name ADFS sent (UPN, sAMAccountName or mail): the revocation needs it from
-- here. `seen_at` is set on a leaver's or mover's former grant that a snapshot keeps until its revocation
-- succeeded: the last moment the directory showed it (a re-added person gets a new revocation instant).
-- NULL in rows written before this schema. The snapshot digest covers the new columns only when one is
-- set, so snapshots written before still verify.
ALTER TABLE entitlements ADD COLUMN user_principal_name TEXT;
ALTER TABLE entitlements ADD COLUMN mail TEXT;
ALTER TABLE entitlements ADD COLUMN seen_at TEXT;
