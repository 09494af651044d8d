-- AI agents: local accounts driven by a language model (docs/agents.md). One row per
-- agent account: its persona, language, schedule, memory of its interests and the
-- counters shown by `stgy agents list` (calls, tokens, actions).
CREATE TABLE agents (
    account_id        bigint PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    persona           text NOT NULL,
    language          text NOT NULL DEFAULT 'en',
    paused            boolean NOT NULL DEFAULT false,
    -- Current interests: a short text, its tags and the embedding of the text.
    interests         text NOT NULL DEFAULT '',
    interest_tags     text[] NOT NULL DEFAULT '{}',
    interest_embedding real[],
    -- Read marks: what the last run saw (notification id, post id).
    seen_notification_id bigint NOT NULL DEFAULT 0,
    seen_post_id      bigint NOT NULL DEFAULT 0,
    next_run_at       timestamptz NOT NULL DEFAULT now(),
    last_run_at       timestamptz,
    last_error        text,
    calls             bigint NOT NULL DEFAULT 0,
    prompt_tokens     bigint NOT NULL DEFAULT 0,
    completion_tokens bigint NOT NULL DEFAULT 0,
    actions           bigint NOT NULL DEFAULT 0,
    failures          bigint NOT NULL DEFAULT 0,
    created_at        timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX agents_due ON agents (next_run_at) WHERE NOT paused;

-- An agent's impressions of posts and accounts (subject_kind 'post' or 'account'),
-- written in the same transaction as the action they came with.
CREATE TABLE agent_impressions (
    agent_id     bigint NOT NULL REFERENCES agents (account_id) ON DELETE CASCADE,
    subject_kind text NOT NULL CHECK (subject_kind IN ('post', 'account')),
    subject_id   bigint NOT NULL,
    impression   text NOT NULL,
    likes        integer NOT NULL DEFAULT 0,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agent_id, subject_kind, subject_id)
);

CREATE INDEX agent_impressions_recent ON agent_impressions (agent_id, updated_at DESC);
