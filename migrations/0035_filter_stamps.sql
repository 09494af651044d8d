-- A stamp per person that changes with any change to their filters (issue 18): page
-- statements return the viewer's stamp, so that the app can keep a person's filters in
-- memory and read them again only when the stamp moved, instead of one statement per
-- page. No row: the person never had a filter. Kept by triggers, so that no write to
-- the filters, their keywords or their posts can forget it.

CREATE TABLE filter_stamps (
    account_id  bigint PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    stamp       bigint NOT NULL DEFAULT 1
);

CREATE FUNCTION stgy_bump_filter_stamp(owner bigint) RETURNS void LANGUAGE sql AS $$
    INSERT INTO filter_stamps AS s (account_id) VALUES (owner)
    ON CONFLICT (account_id) DO UPDATE SET stamp = s.stamp + 1;
$$;

CREATE FUNCTION stgy_filters_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        -- The account itself may be going (the cascade): then nothing is left to stamp.
        IF EXISTS (SELECT 1 FROM accounts WHERE id = OLD.account_id) THEN
            PERFORM stgy_bump_filter_stamp(OLD.account_id);
        END IF;
        RETURN NULL;
    END IF;
    PERFORM stgy_bump_filter_stamp(NEW.account_id);
    IF TG_OP = 'UPDATE' AND OLD.account_id <> NEW.account_id THEN
        PERFORM stgy_bump_filter_stamp(OLD.account_id);
    END IF;
    RETURN NULL;
END
$$;

-- A keyword's or a post's filter: gone already when the filter itself is being deleted
-- (whose own trigger stamps the change).
CREATE FUNCTION stgy_filter_parts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    owner bigint;
BEGIN
    SELECT account_id INTO owner FROM filters
        WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.filter_id ELSE NEW.filter_id END;
    IF owner IS NOT NULL THEN
        PERFORM stgy_bump_filter_stamp(owner);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER filters_stamp AFTER INSERT OR UPDATE OR DELETE ON filters
    FOR EACH ROW EXECUTE FUNCTION stgy_filters_changed();
CREATE TRIGGER filter_keywords_stamp AFTER INSERT OR UPDATE OR DELETE ON filter_keywords
    FOR EACH ROW EXECUTE FUNCTION stgy_filter_parts_changed();
CREATE TRIGGER filter_posts_stamp AFTER INSERT OR UPDATE OR DELETE ON filter_posts
    FOR EACH ROW EXECUTE FUNCTION stgy_filter_parts_changed();

INSERT INTO filter_stamps (account_id) SELECT DISTINCT account_id FROM filters;
