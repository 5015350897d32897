-- 003: catalog search support. Keep in step with sqlite/003_catalog_search.sql.
--
-- The in-process search index (server/search_index.c) serves portal search
-- and stays identical to the database: every change to `apis` bumps
-- search_state.rev and logs (rev, api_id) in api_changes, in the same
-- transaction. The UPDATE of the single search_state row holds its row lock
-- until commit, so concurrent catalog writers (other Portico replicas too)
-- commit their revs in increasing order and a reader never skips one.
CREATE TABLE search_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    rev BIGINT NOT NULL
);
INSERT INTO search_state (id, rev) VALUES (1, 0);

CREATE TABLE api_changes (
    rev BIGINT PRIMARY KEY,
    api_id TEXT NOT NULL
);

CREATE FUNCTION apis_record_change() RETURNS trigger AS $$
DECLARE
    r BIGINT;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE search_state SET rev = rev + 1 WHERE id = 1 RETURNING rev INTO r;
        INSERT INTO api_changes (rev, api_id) VALUES (r, OLD.id);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND OLD.id <> NEW.id) THEN
        UPDATE search_state SET rev = rev + 1 WHERE id = 1 RETURNING rev INTO r;
        INSERT INTO api_changes (rev, api_id) VALUES (r, NEW.id);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER apis_changed AFTER INSERT OR UPDATE OR DELETE ON apis
    FOR EACH ROW EXECUTE FUNCTION apis_record_change();

-- Byte order for names, as on SQLite, whatever the database's collation.
ALTER TABLE apis ALTER COLUMN name_lower TYPE TEXT COLLATE "C";

-- Management listing by tenant.
CREATE INDEX apis_tenant ON apis (tenant_id, name_lower);

-- Trigram index for the SQL search path (LIKE '%word%' on search_text).
-- Optional: skipped with a notice where pg_trgm is not installed or the
-- migration role may not create it.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXECUTE 'CREATE INDEX apis_search_trgm ON apis USING gin (search_text gin_trgm_ops)';
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm is not available (%); search uses the in-process index only', SQLERRM;
END;
$$;
