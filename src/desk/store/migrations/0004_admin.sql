-- support-desk schema: directory import and administration. Released migrations are never edited.

-- SHA-256 (hex) of the PIN hash the last import brought for this account. A re-import replaces the
-- desk's PIN hash only when the file's hash differs from this one (the holder made a new PIN in the
-- system of record); an unchanged, stale hash from the file never brings back a PIN the desk has
-- already rotated away.
ALTER TABLE accounts ADD COLUMN import_pin_digest TEXT;
