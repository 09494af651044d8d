"""Mastodon's streams (`user`, `public:local`, `hashtag`...): which channel each reads,
which of its items a viewer gets, and each event as Mastodon words it."""

from __future__ import annotations

from dataclasses import dataclass, field

from stgy.domain import conversations, notifications, public_streams, streaming
from stgy.domain.oauth_scopes import covers
from stgy.domain.renderings import PageRenderer
from stgy.domain.text import normalise_tag
from stgy.mastodon.conversations import conversation_json
from stgy.mastodon.notifications import notification_json
from stgy.mastodon.status_entities import status_json
from stgy.services import Services
from storage.oauth import TokenHolder
from storage.sessions import Viewer

USER_STREAMS = ("user", "user:notification", "direct")
PUBLIC_STREAMS = (
    "public",
    "public:media",
    "public:local",
    "public:local:media",
    "public:remote",
    "public:remote:media",
)
TAG_STREAMS = ("hashtag", "hashtag:local")
STREAMS = (*USER_STREAMS, *PUBLIC_STREAMS, *TAG_STREAMS, "list")

Item = (
    streaming.NotificationEvent
    | streaming.PostEvent
    | streaming.ConversationEvent
    | streaming.FiltersChanged
)


class StreamError(Exception):
    """A stream that cannot be opened: Mastodon's message and HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Subscription:
    """One stream a client asked for: its Mastodon name, parameter and Redis channel."""

    stream: str
    channel: str
    tag: str | None = None
    list_id: int | None = None

    @property
    def names(self) -> list[str]:
        """The event's `stream` array, as Mastodon sends it: the name, then the tag or list."""
        if self.tag is not None:
            return [self.stream, self.tag]
        if self.list_id is not None:
            return [self.stream, str(self.list_id)]
        return [self.stream]


def required_scope(stream: str) -> str:
    # As Mastodon's streaming server: notifications need read:notifications, the rest
    # read:statuses (`read` covers both).
    return "read:notifications" if stream == "user:notification" else "read:statuses"


async def subscription(
    services: Services,
    holder: TokenHolder,
    stream: str | None,
    *,
    tag: str | None = None,
    list_id: str | None = None,
) -> Subscription:
    """The subscription a client's `stream` (+ `tag`, `list`) names; StreamError when it
    is unknown, lacks its parameter, or the token may not read it."""
    cfg = services.config
    viewer = holder.viewer
    if not stream or stream not in STREAMS or viewer is None:
        raise StreamError("Unknown stream type")
    if not covers(holder.scopes, required_scope(stream)):
        raise StreamError("Access token does not have the required scopes", 401)
    if stream in USER_STREAMS:
        return Subscription(stream, streaming.user_channel(cfg, viewer.account_id))
    if stream in PUBLIC_STREAMS:
        return Subscription(stream, public_streams.public_channel(cfg))
    if stream in TAG_STREAMS:
        name = normalise_tag((tag or "").removeprefix("#"))
        if not tag or name is None:
            raise StreamError("No tag for stream provided")
        return Subscription(stream, public_streams.tag_channel(cfg, name), tag=tag)
    if not list_id or not list_id.isascii() or not list_id.isdigit() or len(list_id) > 18:
        raise StreamError("No list for stream provided")
    if not await public_streams.owns_list(services, viewer.account_id, int(list_id)):
        raise StreamError("Not authorized to stream this list", 401)
    return Subscription(
        stream, public_streams.list_channel(cfg, int(list_id)), list_id=int(list_id)
    )


def _wanted(sub: Subscription, item: Item) -> bool:
    """Whether the subscription takes the item at all (before the viewer's checks)."""
    if sub.stream == "user:notification":
        return isinstance(item, streaming.NotificationEvent)
    if sub.stream == "direct":
        return isinstance(item, streaming.ConversationEvent)
    if isinstance(item, streaming.ConversationEvent):
        return False  # on `direct` only, as Mastodon sends them
    if sub.stream == "user" or sub.stream == "list":
        return True
    if not isinstance(item, streaming.UpdateEvent | streaming.EditEvent | streaming.DeleteEvent):
        return False
    parts = sub.stream.split(":")
    if "local" in parts and not item.local:
        return False
    if "remote" in parts and item.local:
        return False
    return not ("media" in parts and not item.media)


@dataclass
class Renderer:
    """Renders a connection's events for its viewer, each status at most once per item
    (a post on `public` and `public:local` is read and rendered once)."""

    services: Services
    viewer: Viewer
    statuses: PageRenderer
    _cache: dict[tuple[int, bool], str | None] = field(default_factory=dict)

    async def events(
        self, subs: list[Subscription], item: Item
    ) -> list[tuple[Subscription, str, str | None]]:
        """(subscription, event name, payload) for each subscription that gets the item."""
        self._cache.clear()
        out: list[tuple[Subscription, str, str | None]] = []
        for sub in subs:
            if not _wanted(sub, item):
                continue
            event = await self._event(sub, item)
            if event is not None:
                out.append((sub, *event))
        return out

    async def _event(self, sub: Subscription, item: Item) -> tuple[str, str | None] | None:
        if isinstance(item, streaming.FiltersChanged):
            return "filters_changed", None
        if isinstance(item, streaming.NotificationEvent):
            view = await notifications.view_of(
                self.services, self.viewer.account_id, item.notification
            )
            return ("notification", notification_json(view).decode()) if view else None
        if isinstance(item, streaming.ConversationEvent):
            if item.conversation.account_id != self.viewer.account_id:
                return None
            found = await conversations.views_of(self.services, [item.conversation])
            if not found:
                return None  # its post was deleted since
            base_url = self.services.config.instance.base_url
            return "conversation", conversation_json(found[0], base_url).decode()
        if isinstance(item, streaming.DeleteEvent):
            return "delete", str(item.post_id)
        name = "update" if isinstance(item, streaming.UpdateEvent) else "status.update"
        public = sub.stream in PUBLIC_STREAMS or sub.stream in TAG_STREAMS
        payload = await self._status(item.post_id, public)
        return (name, payload) if payload is not None else None

    async def _status(self, post_id: int, public: bool) -> str | None:
        key = (post_id, public)
        if key not in self._cache:
            self._cache[key] = await self._render(post_id, public)
        return self._cache[key]

    async def _render(self, post_id: int, public: bool) -> str | None:
        viewer_id = self.viewer.account_id
        # A public or tag stream sends only what the viewer's public timeline shows:
        # the same rule (blocks, mutes, limited accounts), asked of this one post.
        if public and not await public_streams.public_visible(self.services, viewer_id, post_id):
            return None
        view = await streaming.post_view(self.services, viewer_id, post_id)
        return status_json(self.statuses, view).decode() if view is not None else None
