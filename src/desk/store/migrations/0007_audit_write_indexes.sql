-- support-desk schema: fewer index pages written per audit event (issue 7, "one durable audit
-- event within 2x of a bare fsync"). Released migrations are never edited.
--
-- Every audit event's commit writes one page per index it touches. Query plans (EXPLAIN QUERY
-- PLAN, with and without ANALYZE) of every query on the trail were compared before and after:
-- each uses the same shape of plan on the indexes that remain.

-- The same index as audit_case (0002): (case_id, seq) where case_id is set.
DROP INDEX IF EXISTS audit_review_case;

-- audit_account_kind held an entry for every event, also the sign-ins, sign-outs and other events
-- without an account; every query that reads it names an account (`account_id = ...`), which
-- SQLite knows implies `account_id IS NOT NULL`, so a partial index serves them all. Same name:
-- the review queries ask for it with INDEXED BY.
DROP INDEX IF EXISTS audit_account_kind;
CREATE INDEX audit_account_kind ON audit_events(account_id, kind, seq) WHERE account_id IS NOT NULL;

-- (account_id, seq) for events with an account: the partial audit_account_kind answers
-- `account_id = ...` as well, and the planner already preferred it once both existed.
DROP INDEX IF EXISTS audit_review_account;
