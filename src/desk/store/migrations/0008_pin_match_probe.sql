-- support-desk schema: the lead's "verdicts without a PIN match" view at 10,000,000 events
-- (issue 7). Released migrations are never edited.
--
-- For every verdict shown the view asks whether a Support PIN match came before it: in the same
-- case when the verdict belongs to a case, else by the same rep within the idle timeout. The only
-- index that could answer held (account_id, kind, seq), so each probe read every earlier match of
-- the account and then its row for the case, rep and time: seconds for one day of a busy trail.
--
-- Two small partial indexes over the matches only (`pin_validated`, a few percent of the trail;
-- every other event skips them on their WHERE clause) turn each probe into one seek:
-- (account, case) then an earlier sequence; (account, rep) then a time no older than the timeout.
CREATE INDEX audit_pin_match_case ON audit_events(account_id, case_id, seq)
    WHERE kind = 'pin_validated';
CREATE INDEX audit_pin_match_rep ON audit_events(account_id, rep, at, seq)
    WHERE kind = 'pin_validated';
