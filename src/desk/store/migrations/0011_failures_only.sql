-- support-desk schema: what "failures only" selects in the lead's review and `audit list
-- --failures`. Released migrations are never edited.
--
-- It was every outcome but 'ok' and 'assist', which is mostly ordinary traffic: "verify the PIN
-- first" and "approval needed" verdicts, an unlock of an account that was not locked. It is now the
-- outcomes that went wrong: a failed check or sign-in ('fail'), a lockout ('locked'), and anything
-- refused ('refused'). The partial index follows, written exactly as the queries write the filter.
DROP INDEX IF EXISTS audit_review_failures;
CREATE INDEX audit_review_failures ON audit_events(seq) WHERE outcome IN ('fail', 'locked', 'refused');
