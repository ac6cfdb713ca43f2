-- support-desk schema, version 2: cases and provider approvals. Released migrations are never
-- edited; add a new file instead.

-- The statuses and outcomes a case may have (the cases table of version 1 left them unchecked).
CREATE TRIGGER cases_status_insert BEFORE INSERT ON cases
WHEN NEW.status NOT IN ('open', 'awaiting_approval', 'approved', 'closed')
  OR (NEW.outcome IS NOT NULL AND NEW.outcome NOT IN ('assisted', 'refused', 'abandoned', 'duplicate'))
BEGIN
    SELECT RAISE(ABORT, 'unknown case status or outcome');
END;
CREATE TRIGGER cases_status_update BEFORE UPDATE ON cases
WHEN NEW.status NOT IN ('open', 'awaiting_approval', 'approved', 'closed')
  OR (NEW.outcome IS NOT NULL AND NEW.outcome NOT IN ('assisted', 'refused', 'abandoned', 'duplicate'))
  OR OLD.status = 'closed'
BEGIN
    SELECT RAISE(ABORT, 'unknown case status or outcome, or the case is closed');
END;

-- The queue: open cases by rep, cases by status, recently closed.
CREATE INDEX cases_status ON cases(status, opened_at);
CREATE INDEX cases_rep ON cases(rep_id, status);
CREATE INDEX cases_closed ON cases(closed_at) WHERE closed_at IS NOT NULL;
CREATE INDEX cases_caller ON cases(caller_id);

-- A case's timeline, and the verification of a case (PIN checks carry the case id).
CREATE INDEX audit_case ON audit_events(case_id, seq) WHERE case_id IS NOT NULL;

-- Every rep who acted on a case (opened it, checked a PIN in it, noted, approved, closed).
CREATE TABLE case_touches (
    case_id  INTEGER NOT NULL REFERENCES cases(id),
    rep_id   INTEGER NOT NULL REFERENCES reps(id),
    first_at TEXT NOT NULL,
    last_at  TEXT NOT NULL,
    PRIMARY KEY (case_id, rep_id)
) STRICT;

CREATE TABLE case_notes (
    id      INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    rep_id  INTEGER NOT NULL REFERENCES reps(id),
    at      TEXT NOT NULL,
    body    TEXT NOT NULL CHECK (length(body) > 0)
) STRICT;
CREATE INDEX case_notes_case ON case_notes(case_id, id);

-- A provider's approval: evidence for exactly one case, one requestor, one target, and short-lived.
CREATE TABLE approvals (
    id           INTEGER PRIMARY KEY,
    case_id      INTEGER NOT NULL REFERENCES cases(id),
    provider_id  TEXT NOT NULL REFERENCES accounts(id),   -- the approving provider
    requestor_id TEXT NOT NULL REFERENCES accounts(id),   -- the case's caller at the time
    target_id    TEXT NOT NULL REFERENCES accounts(id),   -- the case's target at the time
    method       TEXT NOT NULL CHECK (method IN ('case_reply', 'provider_pin')),
    reference    TEXT NOT NULL CHECK (length(reference) > 0), -- message id / ticket link, or the PIN check's audit event
    from_address TEXT,                                    -- the reply's sender (case_reply only)
    recorded_by  INTEGER NOT NULL REFERENCES reps(id),
    recorded_at  TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    audit_seq    INTEGER NOT NULL,                        -- its approval_recorded event
    expired_seq  INTEGER,                                 -- its approval_expired event, once recorded
    CHECK ((method = 'case_reply') = (from_address IS NOT NULL))
) STRICT;
CREATE INDEX approvals_case ON approvals(case_id, id);
