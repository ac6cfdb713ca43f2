-- support-desk schema, version 1. Released migrations are never edited; add a new file instead.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE practices (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
) STRICT;

CREATE TABLE accounts (
    id               TEXT PRIMARY KEY,             -- text: '00123' stays '00123'
    role             TEXT NOT NULL CHECK (role IN ('provider', 'staff')),
    name             TEXT NOT NULL,                -- NFC
    email            TEXT NOT NULL,
    phone            TEXT NOT NULL,
    phone_digits     TEXT NOT NULL,                -- digits of phone, for exact matches
    practice_id      INTEGER NOT NULL REFERENCES practices(id),
    primary_provider TEXT REFERENCES accounts(id),
    account_locked   INTEGER NOT NULL DEFAULT 0 CHECK (account_locked IN (0, 1)),
    active           INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    pin_hash         TEXT,                         -- argon2 PHC string; NULL = no Support PIN
    pin_key_id       TEXT,                         -- fingerprint of the key that keyed pin_hash
    pin_set_at       TEXT,
    pin_validated_at TEXT,
    pin_failures     INTEGER NOT NULL DEFAULT 0 CHECK (pin_failures >= 0),
    pin_locked       INTEGER NOT NULL DEFAULT 0 CHECK (pin_locked IN (0, 1)),
    search_text      TEXT NOT NULL                 -- folded id, name, email, phone, digits, practice
) STRICT;
CREATE INDEX accounts_practice ON accounts(practice_id);
CREATE INDEX accounts_primary_provider ON accounts(primary_provider);

-- Failed checks against account ids that do not exist, counted like real ones so that an unknown
-- account answers exactly like a wrong PIN.
CREATE TABLE unknown_pin_failures (
    account_key TEXT PRIMARY KEY,
    failures    INTEGER NOT NULL
) STRICT;

CREATE TABLE reps (
    id               INTEGER PRIMARY KEY,
    username         TEXT NOT NULL UNIQUE,
    display_name     TEXT NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('rep', 'lead')),
    passphrase_hash  TEXT NOT NULL,
    account_id       TEXT REFERENCES accounts(id), -- the rep's own directory account, if any
    disabled         INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    locked           INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),
    failed_signins   INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL
) STRICT;

CREATE TABLE policy_values (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) STRICT;

CREATE TABLE cases (
    id           INTEGER PRIMARY KEY,
    channel      TEXT NOT NULL CHECK (channel IN ('phone', 'email', 'portal')),
    rep_id       INTEGER NOT NULL REFERENCES reps(id),
    caller_id    TEXT NOT NULL REFERENCES accounts(id),
    target_id    TEXT REFERENCES accounts(id),
    request      TEXT NOT NULL CHECK (request IN ('own', 'on_behalf', 'unlock')),
    status       TEXT NOT NULL,
    outcome      TEXT,
    opened_at    TEXT NOT NULL,
    closed_at    TEXT
) STRICT;

-- The audit trail. Append-only: the triggers below refuse UPDATE and DELETE, and each row's hash
-- covers the previous row's hash and a canonical encoding of the row (see desk/audit.rs).
CREATE TABLE audit_events (
    seq            INTEGER PRIMARY KEY,
    at             TEXT NOT NULL,
    rep            TEXT,
    case_id        INTEGER,
    kind           TEXT NOT NULL,
    account_id     TEXT,
    other_account  TEXT,
    outcome        TEXT NOT NULL,
    reason         TEXT,
    policy_version INTEGER,
    detail         TEXT,
    prev_hash      TEXT NOT NULL,
    hash           TEXT NOT NULL
) STRICT;
CREATE INDEX audit_account_kind ON audit_events(account_id, kind, seq);
CREATE INDEX audit_rep ON audit_events(rep, seq);
CREATE INDEX audit_kind ON audit_events(kind, seq);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;

INSERT INTO policy_values (name, value) VALUES
    ('pin_lockout_threshold', 5),
    ('case_failure_limit', 3),
    ('approval_lifetime_minutes', 1440),
    ('idle_timeout_minutes', 15),
    ('rep_lockout_threshold', 5);
INSERT INTO meta (key, value) VALUES ('policy_version', '1');
