-- What the agents read and rank: a summary, tags and an embedding of each public post
-- (made by the summarise_post job when [ai] is on). The embedding is unit length, so
-- cosine similarity is a dot product.
CREATE TABLE post_summaries (
    post_id    bigint PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
    summary    text NOT NULL,
    tags       text[] NOT NULL DEFAULT '{}',
    embedding  real[] NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
