-- rolemap journal: fencing (active/standby, docs/daemon.md#active--standby). Every run and every change
-- row written by a daemon that holds the S3 lease records the lease's epoch and the node id that held it,
-- so an auditor can tell which bastion applied what, and a row from a node whose epoch was superseded
-- stands out. NULL in rows written before this schema or without `ha` (a single daemon, the CLI).
--
-- The hash chains cover the two columns only when one of them is set (chain.ts: `fencingTail`), so rows
-- written before this migration hash exactly as they did and their verification is unchanged.
ALTER TABLE runs ADD COLUMN epoch INTEGER;
ALTER TABLE runs ADD COLUMN node_id TEXT;
ALTER TABLE change_events ADD COLUMN epoch INTEGER;
ALTER TABLE change_events ADD COLUMN node_id TEXT;
CREATE INDEX change_events_epoch ON change_events (epoch) WHERE epoch IS NOT NULL;
