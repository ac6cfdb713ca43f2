-- Lookup as you type on large directories: a trigram full-text index over the folded search text
-- (substring matches without scanning), kept in step with `accounts` by triggers whatever writes
-- the rows; an index for name-prefix ranges; case-insensitive indexes for exact id and email.

CREATE VIRTUAL TABLE account_search USING fts5(
    search_text,
    content = 'accounts',
    content_rowid = 'rowid',
    tokenize = 'trigram'
);

CREATE TRIGGER accounts_search_insert AFTER INSERT ON accounts BEGIN
    INSERT INTO account_search (rowid, search_text) VALUES (new.rowid, new.search_text);
END;
CREATE TRIGGER accounts_search_delete AFTER DELETE ON accounts BEGIN
    INSERT INTO account_search (account_search, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
END;
CREATE TRIGGER accounts_search_update AFTER UPDATE OF search_text ON accounts BEGIN
    INSERT INTO account_search (account_search, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
    INSERT INTO account_search (rowid, search_text) VALUES (new.rowid, new.search_text);
END;

INSERT INTO account_search (account_search) VALUES ('rebuild');

CREATE INDEX accounts_search_prefix ON accounts(search_text);
CREATE INDEX accounts_id_nocase ON accounts(id COLLATE NOCASE);
CREATE INDEX accounts_email_nocase ON accounts(email COLLATE NOCASE);
CREATE INDEX accounts_phone_digits ON accounts(phone_digits);
