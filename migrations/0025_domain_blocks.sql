-- Moderation and administration (issue 17, part C): domain blocks with Mastodon's
-- severities, the instance's rules, and the instance settings admins change live.

-- A host name and the domains above it, as stgy.domain.remote.remote_keys.domains_of
-- makes them: 'a.b.example:8443' -> {'a.b.example:8443', 'a.b.example', 'b.example',
-- 'example'}. A block of 'b.example' covers every account whose domain has it in here.
CREATE FUNCTION stgy_domains_of(host text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT CASE WHEN position(':' IN host) > 0 THEN ARRAY[host] ELSE '{}'::text[] END
        || ARRAY(SELECT array_to_string(labels[i:], '.')
                 FROM (SELECT string_to_array(split_part(host, ':', 1), '.') AS labels) x,
                      generate_subscripts(x.labels, 1) AS i ORDER BY i)
$$;

-- severity: 'noop' (only the flags below), 'silence' (Mastodon's "limit": posts leave
-- the public timelines, followers still get them), 'suspend' (refuse everything, cut
-- follows, drop their posts from our timelines). A 'suspend' row keeps
-- instances.blocked true for its domain (what the inbox, fetches and delivery check).
CREATE TABLE domain_blocks (
    id              bigserial PRIMARY KEY,
    domain          text NOT NULL UNIQUE CHECK (domain = lower(domain) AND domain <> ''),
    severity        text NOT NULL CHECK (severity IN ('noop', 'silence', 'suspend')),
    reject_media    boolean NOT NULL DEFAULT false,
    reject_reports  boolean NOT NULL DEFAULT false,
    public_comment  text NOT NULL DEFAULT '',
    private_comment text NOT NULL DEFAULT '',
    obfuscate       boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- `stgy instances block` made suspensions before this table existed.
INSERT INTO domain_blocks (domain, severity)
    SELECT domain, 'suspend' FROM instances WHERE blocked
    ON CONFLICT (domain) DO NOTHING;

-- The rules shown at sign-up and on /about, in `position` order (0, 1, 2...).
CREATE TABLE instance_rules (
    id          bigserial PRIMARY KEY,
    position    integer NOT NULL,
    text        text NOT NULL CHECK (text <> ''),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX instance_rules_position ON instance_rules (position, id);

-- What admins changed of instance.toml's [instance] section (one row at most); NULL:
-- instance.toml's value.
CREATE TABLE instance_settings (
    id                  boolean PRIMARY KEY DEFAULT true CHECK (id),
    name                text,
    description         text,
    contact_email       text,
    registrations       text CHECK (registrations IN ('open', 'approval', 'closed')),
    show_domain_blocks  boolean NOT NULL DEFAULT false,
    updated_at          timestamptz NOT NULL DEFAULT now()
);
