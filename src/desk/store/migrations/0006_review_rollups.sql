-- support-desk schema: the lead's review at 10,000,000 events (issue 7). Released migrations are
-- never edited; add a new file instead.
--
-- The failure chart and the pattern views read failed Support PIN checks (`pin_rejected`) and
-- lockouts (`pin_locked`), a few percent of the trail. Two derived structures keep those reads
-- small without adding anything to the write of any other audit event:
--
-- 1. A covering partial index over the failure kinds: a range of sequence numbers is an index-only
--    walk with every column the views group and filter by (no row of the trail is read).
-- 2. A rollup of failures and lockouts per quarter hour (UTC), for the chart: a year is at most
--    35,040 rows instead of every failure. Quarter hours, because every time zone's offset is a
--    multiple of 15 minutes, so each slot falls in exactly one local hour, day or week.
--
-- The trail's integrity is the hash chain in audit_events; the rollup is derived from it and is
-- checked against it by `support-desk check` (a recount per slot).
--
-- The slot of an instant is floor(unix seconds / 900); `unixepoch()` truncates toward zero, so
-- the `- (... % 900 < 0)` floors instants before 1970 too. Events whose time cannot be read have
-- no slot and are counted nowhere (the chart cannot place them either).

CREATE INDEX audit_failed_pin ON audit_events(seq, kind, account_id, rep, at, other_account, case_id)
    WHERE kind IN ('pin_rejected', 'pin_locked');

-- Failed PIN checks and lockouts per quarter hour. `last_seq` is the newest event counted in the
-- slot; the guards below use it to admit exactly one kind of change: counting the event just
-- written.
CREATE TABLE audit_failure_slots (
    slot     INTEGER PRIMARY KEY,                     -- floor(unixepoch(at) / 900)
    failures INTEGER NOT NULL CHECK (failures >= 0),  -- pin_rejected events
    lockouts INTEGER NOT NULL CHECK (lockouts >= 0),  -- pin_locked events
    last_seq INTEGER NOT NULL
) STRICT;

-- The backfill, from the index above (an index-only walk of the failures, not of the trail).
INSERT INTO audit_failure_slots (slot, failures, lockouts, last_seq)
SELECT unixepoch(at) / 900 - (unixepoch(at) % 900 < 0),
       sum(kind = 'pin_rejected'), sum(kind = 'pin_locked'), max(seq)
FROM audit_events INDEXED BY audit_failed_pin
WHERE kind IN ('pin_rejected', 'pin_locked') AND unixepoch(at) IS NOT NULL
GROUP BY 1;

-- Counting: only for the failure kinds (every other audit event skips this trigger on its WHEN
-- clause and writes nothing more than before). An empty row first when the slot is new, then +1.
-- Not an upsert: the insert guard below must be able to refuse every non-empty insert, or
-- `INSERT OR REPLACE` could overwrite a count.
CREATE TRIGGER audit_failure_slots_count AFTER INSERT ON audit_events
WHEN NEW.kind IN ('pin_rejected', 'pin_locked') AND unixepoch(NEW.at) IS NOT NULL
BEGIN
    INSERT INTO audit_failure_slots (slot, failures, lockouts, last_seq)
    SELECT unixepoch(NEW.at) / 900 - (unixepoch(NEW.at) % 900 < 0), 0, 0, 0
    WHERE NOT EXISTS (
        SELECT 1 FROM audit_failure_slots
        WHERE slot = unixepoch(NEW.at) / 900 - (unixepoch(NEW.at) % 900 < 0));
    UPDATE audit_failure_slots
    SET failures = failures + (NEW.kind = 'pin_rejected'),
        lockouts = lockouts + (NEW.kind = 'pin_locked'),
        last_seq = NEW.seq
    WHERE slot = unixepoch(NEW.at) / 900 - (unixepoch(NEW.at) % 900 < 0);
END;

-- Guards: the app cannot change the rollup except by writing audit events.
-- An insert may only add an empty row for a slot that has none (a true zero; never a replacement).
CREATE TRIGGER audit_failure_slots_insert_guard BEFORE INSERT ON audit_failure_slots
WHEN NEW.failures <> 0 OR NEW.lockouts <> 0 OR NEW.last_seq <> 0
  OR EXISTS (SELECT 1 FROM audit_failure_slots WHERE slot = NEW.slot)
BEGIN
    SELECT RAISE(ABORT, 'the failure rollup is written only by audit events');
END;
-- An update may only count one more event: a failure or lockout in this slot, newer than every
-- event counted here, added to its own column. Events are appended in sequence order, so each
-- one was counted when it was written and no event is left that a second update could count.
CREATE TRIGGER audit_failure_slots_update_guard BEFORE UPDATE ON audit_failure_slots
WHEN NOT (
    NEW.slot = OLD.slot AND NEW.last_seq > OLD.last_seq
    AND EXISTS (
        SELECT 1 FROM audit_events e
        WHERE e.seq = NEW.last_seq
          AND unixepoch(e.at) / 900 - (unixepoch(e.at) % 900 < 0) = NEW.slot
          AND ((e.kind = 'pin_rejected' AND NEW.failures = OLD.failures + 1 AND NEW.lockouts = OLD.lockouts)
            OR (e.kind = 'pin_locked' AND NEW.lockouts = OLD.lockouts + 1 AND NEW.failures = OLD.failures))))
BEGIN
    SELECT RAISE(ABORT, 'the failure rollup is written only by audit events');
END;
CREATE TRIGGER audit_failure_slots_delete_guard BEFORE DELETE ON audit_failure_slots
BEGIN
    SELECT RAISE(ABORT, 'the failure rollup is written only by audit events');
END;
