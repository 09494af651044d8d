-- Moderation and administration (issue 17): the audit log every moderation and admin
-- action writes a row to, in the same transaction as the action. Append-only: rows are
-- never changed or deleted (a trigger refuses it), and they name their targets by text
-- (an account's id and handle, a domain), so they outlive what they name.
CREATE TABLE audit_log (
    id                bigserial PRIMARY KEY,
    created_at        timestamptz NOT NULL DEFAULT now(),
    actor_account_id  bigint,                 -- NULL: the CLI (an admin at the machine)
    actor             text NOT NULL,          -- the actor's handle, or 'cli'
    action            text NOT NULL,          -- e.g. 'account.suspend', 'domain_block.create'
    target_type       text NOT NULL,          -- 'account', 'domain', 'report', 'instance'...
    target            text NOT NULL,          -- the target's id or name, as text
    comment           text NOT NULL DEFAULT '',
    details           jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_target ON audit_log (target_type, target, id DESC);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
