-- support-desk schema: every PIN hash an import ever applied, per account. Released migrations
-- are never edited.
--
-- 0004 kept only the digest of the PIN hash the last import brought (`accounts.import_pin_digest`).
-- Importing an older file again (a hash the system of record has since replaced) then looked like
-- a change and brought back a PIN the desk had already validated and rotated away. A file's hash
-- is now applied only when its digest was never applied to that account; the column stays as the
-- digest of the last one.
CREATE TABLE imported_pin_digests (
    account_id TEXT NOT NULL REFERENCES accounts(id),
    digest     TEXT NOT NULL,               -- SHA-256 (hex) of the PHC string, never the hash itself
    PRIMARY KEY (account_id, digest)
) STRICT, WITHOUT ROWID;

INSERT INTO imported_pin_digests (account_id, digest)
SELECT id, import_pin_digest FROM accounts WHERE import_pin_digest IS NOT NULL;
