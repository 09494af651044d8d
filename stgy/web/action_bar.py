"""A post's action bar: the counts and what the viewer can do to it.

It is drawn for every post of every page, for each viewer (the counts and the viewer's
likes, shares and bookmarks are live), so it is written here rather than as a template:
Jinja spent about half of a home page's rendering on it (an include per post, each with
its context, attribute lookups and a translation call per label), and this draws the
same markup in a few microseconds. The rest of a post, the same for everyone, is a
template (partials/post_static.html) kept drawn in post_cards.py.

One form whose buttons name the action (`do`), so a page of posts carries one CSRF field
per post. It posts without JavaScript; with htmx the answer is this bar alone, swapped
in place (`hx-target="closest .post-actions"`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from markupsafe import Markup, escape

from stgy.web import i18n
from storage.sessions import Viewer


def N_(message: str) -> str:  # noqa: N802 - the name Babel extracts
    """Marks a string for the catalogs; translated where it is used."""
    return message


@dataclass(frozen=True)
class _Labels:
    reply: str
    like: str
    share: str
    bookmark: str
    edit: str
    delete: str
    more: str
    report: str
    replies: str
    likes: str
    shares: str


@functools.cache
def _labels(language: str) -> _Labels:
    """The bar's words in `language`, escaped once."""
    translate = i18n.translations(language).gettext

    def word(message: str) -> str:
        return str(escape(translate(message)))

    return _Labels(
        reply=word(N_("Reply")),
        like=word(N_("Like")),
        share=word(N_("Share")),
        bookmark=word(N_("Bookmark")),
        edit=word(N_("Edit")),
        delete=word(N_("Delete")),
        more=word(N_("More actions")),
        report=word(N_("Report")),
        replies=word(N_("Replies")),
        likes=word(N_("Likes")),
        shares=word(N_("Shares")),
    )


def _toggle(on: bool, action: str, label: str, count: str) -> str:
    """A button that does `action`, or undoes it when `on` (pressed)."""
    if on:
        return (
            f'<button name="do" value="un{action}" class="on" aria-pressed="true">'
            f"{label}{count}</button>"
        )
    return f'<button name="do" value="{action}" aria-pressed="false">{label}{count}</button>'


_SHAREABLE = frozenset({"public", "unlisted"})
_COUNTS = [f' <span class="count">{n}</span>' for n in range(100)]


def _count(value: Any) -> str:
    number = int(value)
    if 0 <= number < 100:
        return _COUNTS[number]
    return f' <span class="count">{number}</span>'


class ActionBars:
    """The action bars of one page: what is the same for all its posts (the words in the
    page's language, the viewer, the CSRF and `next` fields, the delete link's `next`)
    made once; `bar(post)` then draws each post's."""

    def __init__(self, viewer: Viewer | None, csrf_token: str, back: str) -> None:
        self.viewer = viewer
        self.words = _labels(i18n.current_language())
        self.viewer_id = str(viewer.account_id) if viewer is not None else None
        self.fields = (
            f'<input type="hidden" name="csrf_token" value="{escape(csrf_token)}">'
            f'<input type="hidden" name="next" value="{escape(back)}">'
        )
        self.delete_next = str(escape(quote(back, safe="/")))
        self.menu_head = (
            '<details class="post-menu"><summary class="action"><span aria-hidden="true">…'
            f'</span><span class="visually-hidden">{self.words.more}</span></summary>'
        )

    def bar(self, post: dict[str, Any]) -> Markup:
        """The bar of `post` (the API's post JSON; a share acts on its original)."""
        return Markup(self.markup(post))  # noqa: S704 - every part is a number or escaped

    def markup(self, post: dict[str, Any]) -> str:
        """`bar(post)` as the str a page joins with others (already escaped)."""
        target = post["share_of"] or post
        words = self.words
        target_id = int(target["id"])
        if self.viewer is None:
            return (
                '<div class="post-actions">\n'
                f'<span class="action">{words.replies}{_count(target["replies_count"])}</span>\n'
                f'<span class="action">{words.likes}{_count(target["likes_count"])}</span>\n'
                f'<span class="action">{words.shares}{_count(target["shares_count"])}</span>\n'
                "</div>"
            )
        likes = (
            "\n" + _toggle(target["liked"], "like", words.like, _count(target["likes_count"]))
            if target["allow_likes"]
            else ""
        )
        shares = (
            "\n" + _toggle(target["shared"], "share", words.share, _count(target["shares_count"]))
            if target["visibility"] in _SHAREABLE
            else ""
        )
        bookmark = _toggle(target["bookmarked"], "bookmark", words.bookmark, "")
        own = ""
        if post["account"]["id"] == self.viewer_id:
            if not post["share_of"]:
                own = f'\n<a class="action" href="/posts/{target_id}/edit">{words.edit}</a>'
            own += (
                f'\n<a class="action danger" href="/posts/{int(post["id"])}/delete'
                f'?next={self.delete_next}">{words.delete}</a>'
            )
        menu = ""
        author_id = int(target["account"]["id"])
        if str(author_id) != self.viewer_id:
            # A menu (a <details>, no script) holds what is rarely wanted.
            menu = (
                f"\n{self.menu_head}"
                f'<a class="action" href="/report?account={author_id}&amp;post={target_id}">'
                f"{words.report}</a></details>"
            )
        return (
            '<div class="post-actions">\n'
            f'<a class="action" href="/compose?in_reply_to={target_id}">'
            f"{words.reply}{_count(target['replies_count'])}</a>\n"
            f'<form class="inline" method="post" action="/posts/{target_id}/actions"'
            f' hx-post="/posts/{target_id}/actions" hx-target="closest .post-actions"'
            f' hx-swap="outerHTML">\n{self.fields}{likes}{shares}\n{bookmark}\n</form>{own}{menu}'
            "\n</div>"
        )


def action_bar(post: dict[str, Any], viewer: Viewer | None, csrf_token: str, back: str) -> Markup:
    """The bar of one `post` for the viewer; `back` is the page a form without JavaScript
    comes back to."""
    return ActionBars(viewer, csrf_token, back).bar(post)
