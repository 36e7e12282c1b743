-- rolemap journal: what has been shipped to the write-once archive (journal.archive, docs/journal.md#archive).
-- One row per segment object, in order. Bookkeeping, not evidence: the segments themselves are the
-- evidence (Object Lock, a SHA-256 checksum, each naming the one before it), and `journal verify --archive`
-- compares the archive with the local rows directly, never through this table.
CREATE TABLE archive_segments (
  seq              INTEGER PRIMARY KEY,        -- 1, 2, 3, ... (the number in the object key)
  key              TEXT NOT NULL UNIQUE,       -- <prefix>/<seq>-<first row>-<last row>.json.gz
  first_change_id  INTEGER NOT NULL,           -- change_events rows first..last (first = last + 1: none)
  last_change_id   INTEGER NOT NULL,
  head_hash        TEXT NOT NULL,              -- change chain head after the segment (GENESIS when empty)
  watermarks       TEXT NOT NULL,              -- JSON: the last id of each chained table in the segment, and `at`
  sha256           TEXT NOT NULL,              -- hex, of the object's bytes (gzip)
  bytes            INTEGER NOT NULL,
  version_id       TEXT,                       -- the S3 version id, when the bucket answered one
  source           TEXT NOT NULL CHECK (source IN ('shipped', 'pulled', 'restored')),
  recorded_at      TEXT NOT NULL
) STRICT;
