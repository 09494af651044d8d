-- Moderation and administration (issue 17, part B): reports by local people (web, API,
-- CLI) beside the ones other instances send (Flag), with what moderators need to handle
-- them: a category, the rules broken, the reported posts as they were when reported,
-- notes between moderators, and who resolved them, when and why.

-- category: 'spam', 'illegal', 'violation' (of rule_ids, the ids of the instance's
-- rules), 'other'. forwarded_at: when a copy went to the reported account's instance as
-- a Flag from our instance actor (NULL: not forwarded). Resolving a report sets
-- resolved_at, resolved_by_id (NULL for the CLI) and the resolution comment; reopening
-- clears them (the audit log keeps every change).
ALTER TABLE reports
    ADD COLUMN category text NOT NULL DEFAULT 'other'
        CHECK (category IN ('spam', 'illegal', 'violation', 'other')),
    ADD COLUMN rule_ids integer[] NOT NULL DEFAULT '{}',
    ADD COLUMN forwarded_at timestamptz,
    ADD COLUMN resolved_by_id bigint REFERENCES accounts (id) ON DELETE SET NULL,
    ADD COLUMN resolution text NOT NULL DEFAULT '';
-- The history of an account: its reports, newest first.
CREATE INDEX reports_target_idx ON reports (target_account_id, id DESC);
CREATE INDEX reports_resolved_idx ON reports (id DESC) WHERE resolved_at IS NOT NULL;

-- Each reported post as it was when reported, so an edit or a delete since hides
-- nothing from the moderators: its text, HTML, content warning and media (URLs,
-- types and descriptions; the files are those the post had).
CREATE TABLE report_posts (
    report_id   bigint NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    post_id     bigint NOT NULL,           -- no foreign key: the snapshot outlives the post
    ap_id       text NOT NULL,
    url         text,
    source      text NOT NULL,
    html        text NOT NULL,
    summary     text NOT NULL,
    sensitive   boolean NOT NULL,
    visibility  text NOT NULL,
    media       jsonb NOT NULL DEFAULT '[]',
    posted_at   timestamptz NOT NULL,
    edited_at   timestamptz,
    PRIMARY KEY (report_id, post_id)
);

-- What moderators write to each other about a report (never shown to the reporter or
-- the reported account).
CREATE TABLE report_notes (
    id                 bigserial PRIMARY KEY,
    report_id          bigint NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    author_account_id  bigint REFERENCES accounts (id) ON DELETE SET NULL,  -- NULL: the CLI
    author             text NOT NULL,                                       -- handle, or 'cli'
    body               text NOT NULL CHECK (body <> ''),
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX report_notes_report_idx ON report_notes (report_id, id);
