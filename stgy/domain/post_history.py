"""A post's edit history: its versions, newest first, for whoever may see the post."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from stgy.domain.errors import NotFound
from stgy.services import Services
from storage import posts as posts_sql
from storage.posts import PostView

# Versions shown at most (the current one included); older ones are left out.
MAX_VERSIONS = 100


@dataclass(frozen=True)
class Version:
    source: str  # the Markdown of a local post; the text of a remote one
    html: str  # sanitised, as stored when it was written or received
    summary: str
    written_at: datetime
    current: bool


@dataclass(frozen=True)
class History:
    post: PostView
    versions: list[Version]  # newest first
    complete: bool  # False when older versions were left out


async def history(services: Services, post_id: int, viewer_id: int | None) -> History:
    """The post as it is now and the versions its edits replaced. Each version is dated
    by when it was written: the post's creation, or the edit that made it."""
    async with services.pool.acquire() as conn:
        views = await posts_sql.load_views(conn, post_ids=[post_id], viewer_id=viewer_id)
        post = views.get(post_id)
        if post is None or not post.shown or post.share_of_id is not None:
            raise NotFound("no such post")
        edits = await posts_sql.edit_history(conn, post_id=post_id, limit=MAX_VERSIONS)
    current = Version(
        post.source, post.html, post.summary, post.edited_at or post.created_at, current=True
    )
    versions = [current]
    kept = edits[: MAX_VERSIONS - 1]
    for i, edit in enumerate(kept):
        # A replaced version was written by the edit before it (the next older row), the
        # oldest one when the post was created.
        written = edits[i + 1].replaced_at if i + 1 < len(edits) else post.created_at
        versions.append(Version(edit.source, edit.html, edit.summary, written, current=False))
    return History(post, versions, complete=len(edits) < MAX_VERSIONS)
