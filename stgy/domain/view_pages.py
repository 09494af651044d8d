"""Pages of posts that a domain call has loaded already (a page of bookmarks, a search),
as the same JSON a timeline page assembles from renderings (stgy/domain/renderings.py),
without another statement."""

from __future__ import annotations

from stgy.domain.renderings import EMPTY_PAGE, PageRenderer, RenderedPage
from storage.posts import PostView


def _view_json(renderer: PageRenderer, view: PostView, share_of: bytes) -> bytes:
    author = view.account
    return renderer.template % (
        renderer.post(view).encode(),
        renderer.account(author).encode(),
        author.posts_count,
        author.followers_count,
        author.following_count,
        share_of,
        view.replies_count,
        view.likes_count,
        view.shares_count,
        renderer.states[view.liked],
        renderer.states[view.shared],
        renderer.states[view.bookmarked],
    )


def views_page(renderer: PageRenderer, views: list[PostView]) -> RenderedPage:
    """The posts in this order, each as a timeline page shows it."""
    made = []
    for view in views:
        original = view.share_of
        share_of = b"null" if original is None else _view_json(renderer, original, b"null")
        made.append(_view_json(renderer, view, share_of))
    if not made:
        return EMPTY_PAGE
    return RenderedPage(b",".join(made), views[0].id, views[-1].id, [])
