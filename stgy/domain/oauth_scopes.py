"""OAuth scopes as Mastodon defines them: which exist, and which a granted set covers."""

from __future__ import annotations

from collections.abc import Iterable

READ_SCOPES = (
    "read:accounts",
    "read:blocks",
    "read:bookmarks",
    "read:favourites",
    "read:filters",
    "read:follows",
    "read:lists",
    "read:mutes",
    "read:notifications",
    "read:search",
    "read:statuses",
)
WRITE_SCOPES = (
    "write:accounts",
    "write:blocks",
    "write:bookmarks",
    "write:conversations",
    "write:favourites",
    "write:filters",
    "write:follows",
    "write:lists",
    "write:media",
    "write:mutes",
    "write:notifications",
    "write:reports",
    "write:statuses",
)
# `follow` is deprecated in Mastodon, still granted by many apps: it means these.
FOLLOW_SCOPES = (
    "read:blocks",
    "read:follows",
    "read:mutes",
    "write:blocks",
    "write:follows",
    "write:mutes",
)
TOP_SCOPES = ("read", "write", "follow", "push", "profile")
SUPPORTED_SCOPES = (*TOP_SCOPES, *READ_SCOPES, *WRITE_SCOPES)
_SUPPORTED = frozenset(SUPPORTED_SCOPES)
DEFAULT_SCOPES = ("read",)
MAX_SCOPE_TEXT = 2000


class UnknownScope(ValueError):
    """A scope we do not grant (admin scopes, misspellings)."""

    def __init__(self, scope: str) -> None:
        super().__init__(scope)
        self.scope = scope


def parse_scopes(text: str | None) -> list[str]:
    """The scopes of a `scope` parameter (space- or plus-separated), in order, each once;
    the default (`read`) when it names none. UnknownScope for one we do not know."""
    if text is not None and len(text) > MAX_SCOPE_TEXT:
        raise UnknownScope(text[:100] + "...")
    words = (text or "").replace("+", " ").split()
    found: list[str] = []
    for word in words:
        if word not in _SUPPORTED:
            raise UnknownScope(word)
        if word not in found:
            found.append(word)
    return found or list(DEFAULT_SCOPES)


def covers(granted: Iterable[str], scope: str) -> bool:
    """True when the granted scopes include `scope`: itself, its parent (`read` covers
    `read:statuses`), or `follow` for the follow/block/mute ones."""
    held = set(granted)
    if scope in held:
        return True
    parent, _, child = scope.partition(":")
    if child and parent in held:
        return True
    return "follow" in held and scope in FOLLOW_SCOPES


def within(requested: Iterable[str], registered: Iterable[str]) -> bool:
    """True when every requested scope is covered by the app's registered ones."""
    held = list(registered)
    return all(covers(held, scope) for scope in requested)
