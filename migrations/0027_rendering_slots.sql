-- Stored renderings per face (issue 18 part 2): the native API's JSON is slot 0, the
-- Mastodon API's Status is slot 1 (stgy/domain/renderings.py, PageRenderer.slot). Each
-- face replaces only its own row of a post or account, so the two faces do not
-- overwrite each other's renderings, and a new serializer `format` still replaces the
-- old one in place (no rows of old formats pile up).
ALTER TABLE post_renderings ADD COLUMN slot smallint NOT NULL DEFAULT 0;
ALTER TABLE post_renderings DROP CONSTRAINT post_renderings_pkey;
ALTER TABLE post_renderings ADD PRIMARY KEY (post_id, slot);

ALTER TABLE account_renderings ADD COLUMN slot smallint NOT NULL DEFAULT 0;
ALTER TABLE account_renderings DROP CONSTRAINT account_renderings_pkey;
ALTER TABLE account_renderings ADD PRIMARY KEY (account_id, slot);
