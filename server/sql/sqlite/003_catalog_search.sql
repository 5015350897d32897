-- 003: catalog search support. Keep in step with postgres/003_catalog_search.sql.
--
-- The in-process search index (server/search_index.c) serves portal search
-- and stays identical to the database: every change to `apis` bumps
-- search_state.rev and logs (rev, api_id) in api_changes, in the same
-- transaction. A reader whose index is at an older rev reloads just the
-- changed APIs. On SQLite writers are serialised, so revs commit in order.
CREATE TABLE search_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    rev BIGINT NOT NULL
);
INSERT INTO search_state (id, rev) VALUES (1, 0);

CREATE TABLE api_changes (
    rev BIGINT PRIMARY KEY,
    api_id TEXT NOT NULL
);

CREATE TRIGGER apis_changed_insert AFTER INSERT ON apis
BEGIN
    UPDATE search_state SET rev = rev + 1 WHERE id = 1;
    INSERT INTO api_changes (rev, api_id) SELECT rev, NEW.id FROM search_state WHERE id = 1;
END;

CREATE TRIGGER apis_changed_update AFTER UPDATE ON apis
BEGIN
    UPDATE search_state SET rev = rev + 1 WHERE id = 1;
    INSERT INTO api_changes (rev, api_id) SELECT rev, OLD.id FROM search_state WHERE id = 1;
    UPDATE search_state SET rev = rev + 1 WHERE id = 1 AND OLD.id <> NEW.id;
    INSERT INTO api_changes (rev, api_id)
        SELECT rev, NEW.id FROM search_state WHERE id = 1 AND OLD.id <> NEW.id;
END;

CREATE TRIGGER apis_changed_delete AFTER DELETE ON apis
BEGIN
    UPDATE search_state SET rev = rev + 1 WHERE id = 1;
    INSERT INTO api_changes (rev, api_id) SELECT rev, OLD.id FROM search_state WHERE id = 1;
END;

-- Management listing by tenant.
CREATE INDEX apis_tenant ON apis (tenant_id, name_lower);
