-- support-desk schema: the lead's pattern views over a long range at 10,000,000 events (issue 7).
-- Released migrations are never edited.
--
-- "Accounts failing across reps" and "reps failing across accounts" group the failed Support PIN
-- checks of a range by account (or rep) and count the distinct reps (or accounts) of each. Over a
-- day or a week the failures of the range are few: `audit_failed_pin` (0006, in sequence order)
-- walks just those and SQLite sorts them. Over most of the trail (a year) that sort of every
-- failure was most of a second. These two partial indexes hold the same failures already in group
-- order, so a wide range is one walk with no sort (and the distinct reps or accounts of a group
-- arrive in order too); the rest of a row (lockouts, first and last failure) is then one seek per
-- account or rep shown.
-- Only the failure kinds are indexed: every other audit event skips them on the WHERE clause.
CREATE INDEX audit_failed_by_account ON audit_events(account_id, rep, seq, kind, at)
    WHERE kind IN ('pin_rejected', 'pin_locked');
CREATE INDEX audit_failed_by_rep ON audit_events(rep, account_id, seq, kind, at)
    WHERE kind IN ('pin_rejected', 'pin_locked');
