"""The JSON answers asked of the model: each is sent as `response_format` (its JSON
schema) and the answer is validated by the same model before anything is done.

Only keywords every OpenAI-compatible server honours in strict mode are used (types,
enums, required properties, no additional ones); lengths are checked after
validation by the same rules as a person's post (stgy.domain.posts).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class PostChoice(_Strict):
    """What the agent makes of one post it was shown (`post`: its label, like "p2")."""

    post: str
    impression: str
    action: Literal["none", "like", "reply"]
    reply: str


class AccountChoice(_Strict):
    """Its impression of an author it was shown (`account`: the handle as shown)."""

    account: str
    impression: str
    follow: bool


class Decision(_Strict):
    """One run's decision: per post, per author, an optional new post, its interests."""

    posts: list[PostChoice]
    accounts: list[AccountChoice]
    new_post: str
    interests: str
    interest_tags: list[str]


class PostSummary(_Strict):
    summary: str
    tags: list[str]
