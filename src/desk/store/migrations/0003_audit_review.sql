-- support-desk schema: audit review (issue 4). Released migrations are never edited.

-- Review queries page newest first by sequence; these indexes let every filter walk its own
-- rows in sequence order instead of scanning the trail.
CREATE INDEX IF NOT EXISTS audit_review_other ON audit_events(other_account, seq)
    WHERE other_account IS NOT NULL;
CREATE INDEX IF NOT EXISTS audit_review_case ON audit_events(case_id, seq)
    WHERE case_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS audit_review_failures ON audit_events(seq)
    WHERE outcome NOT IN ('ok', 'assist');
CREATE INDEX IF NOT EXISTS audit_review_account ON audit_events(account_id, seq)
    WHERE account_id IS NOT NULL;

-- Chain heads recorded by lead reviews and exports. They live outside audit_events on purpose:
-- the event that records a review is itself part of the tail, so a trail cut back below the head
-- would take that event with it; this table keeps the head, and verification checks the chain
-- against every row. Append-only, like the trail.
CREATE TABLE audit_anchors (
    id        INTEGER PRIMARY KEY,
    head_seq  INTEGER NOT NULL,
    head_hash TEXT NOT NULL,
    event_seq INTEGER NOT NULL,                                 -- the audit event that recorded it
    source    TEXT NOT NULL CHECK (source IN ('review', 'export')),
    rep       TEXT,
    at        TEXT NOT NULL
) STRICT;

CREATE TRIGGER audit_anchors_no_update BEFORE UPDATE ON audit_anchors
BEGIN
    SELECT RAISE(ABORT, 'audit anchors are append-only');
END;
CREATE TRIGGER audit_anchors_no_delete BEFORE DELETE ON audit_anchors
BEGIN
    SELECT RAISE(ABORT, 'audit anchors are append-only');
END;
