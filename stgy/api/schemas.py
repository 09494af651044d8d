"""JSON shapes of the native API (pydantic models, for validation and OpenAPI)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, ParamSpec, TypeVar

from pydantic import BaseModel, Field
from quart_schema.pydantic import File

from stgy.http.validation import MAX_PAGE, QueryModel, RequestModel, responds

P = ParamSpec("P")
R = TypeVar("R")

Visibility = Literal["public", "unlisted", "followers", "direct", "local"]


class Error(BaseModel):
    error: str
    detail: object = None


class ProfileField(BaseModel):
    name: str
    value: str


class ProfileFieldOut(ProfileField):
    value: str = Field(description="the value as text")
    value_html: str = Field(
        description="the value as sanitised HTML: a remote server's, or for a local account"
        " the text escaped (a link when it is a URL)"
    )


class AccountOut(BaseModel):
    id: str = Field(description="64-bit id as a decimal string")
    handle: str
    acct: str = Field(description="handle for local accounts, handle@domain for remote ones")
    domain: str | None
    local: bool
    display_name: str
    bio: str = Field(description="Markdown source (empty for remote accounts)")
    bio_html: str
    fields: list[ProfileFieldOut]
    locked: bool
    bot: bool
    url: str | None
    ap_id: str
    avatar_url: str | None
    header_url: str | None
    posts_count: int
    followers_count: int
    following_count: int
    created_at: str


class RegistrationIn(RequestModel):
    handle: str
    display_name: str = ""
    password: str
    email: str


class RegistrationOut(AccountOut):
    pending: bool = Field(description="true when a moderator must approve the account first")


class LoginIn(RequestModel):
    handle: str | None = Field(default=None, description="handle or email")
    email: str | None = None
    password: str


class TokenOut(BaseModel):
    token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme name
    expires_at: str
    account: AccountOut


class ProfileIn(RequestModel):
    display_name: str | None = None
    bio: str | None = Field(default=None, description="Markdown")
    handle: str | None = None
    locked: bool | None = None
    bot: bool | None = Field(default=None, description="an automated account")
    fields: list[ProfileField] | None = None
    avatar_media_id: str | None = Field(
        default=None, description="a ready upload of purpose avatar; null removes the avatar"
    )
    header_media_id: str | None = Field(
        default=None, description="a ready upload of purpose header; null removes the header"
    )


class PasswordIn(RequestModel):
    password: str


# --- Mail: confirmation, password reset, email change, mail settings ---------------


class StatusOut(BaseModel):
    status: str


class TokenIn(RequestModel):
    token: str = Field(description="the token from the mailed link")


class ConfirmedOut(BaseModel):
    status: Literal["confirmed"] = "confirmed"
    email: str = Field(description="the address now confirmed")
    changed: bool = Field(description="true when this confirmed a new address (email change)")


class PasswordResetIn(RequestModel):
    email: str | None = Field(default=None, description="the account's email address")
    handle: str | None = Field(default=None, description="or its handle")


class PasswordResetConfirmIn(RequestModel):
    token: str = Field(description="the token from the mailed link")
    new_password: str


class EmailChangeIn(RequestModel):
    email: str = Field(description="the new address; it takes effect once confirmed")
    password: str = Field(description="the current password")


class EmailChangeOut(BaseModel):
    status: Literal["confirmation_sent"] = "confirmation_sent"
    pending_email: str


class MailSettingsOut(BaseModel):
    email: str
    email_confirmed: bool
    pending_email: str | None = Field(description="a new address waiting for confirmation")
    mail_on_follow: bool = Field(description="mail me when someone follows me (default off)")
    mail_on_mention: bool = Field(description="mail me when someone mentions me (default off)")


class MailSettingsIn(RequestModel):
    mail_on_follow: bool | None = None
    mail_on_mention: bool | None = None


class UnsubscribeQuery(QueryModel):
    token: str = Field(description="the token of the List-Unsubscribe link")


class UnsubscribeOut(BaseModel):
    kind: Literal["follow", "mention"] = Field(description="the kind of mail the token names")
    enabled: bool = Field(description="whether that kind of mail is on now")


class AccountList(BaseModel):
    accounts: list[AccountOut]
    next: str | None = Field(description="pass as `until` for the next page, null at the end")


class MentionOut(BaseModel):
    id: str
    handle: str
    acct: str
    url: str | None


class MediaFocus(BaseModel):
    x: float = Field(description="-1 (left) to 1 (right)")
    y: float = Field(description="-1 (bottom) to 1 (top)")


class MediaOut(BaseModel):
    id: str
    type: Literal["image", "video", "audio", "unknown"]
    state: Literal["processing", "ready", "failed"]
    purpose: Literal["attachment", "avatar", "header"]
    url: str | None = Field(description="the original, re-encoded; null while processing")
    preview_url: str | None = Field(description="the `small` rendition")
    large_url: str | None = Field(description="the `large` rendition")
    remote_url: str | None = Field(description="for a remote post's media: where it came from")
    content_type: str | None
    description: str = Field(description="alt text")
    blurhash: str | None
    width: int | None
    height: int | None
    animated: bool
    focus: MediaFocus
    error: str | None = Field(description="why processing failed")
    created_at: str


class MediaUploadForm(BaseModel):
    """multipart/form-data fields of an upload."""

    file: File = Field(description="JPEG, PNG, GIF, WebP or AVIF; not SVG")
    description: str = Field(default="", description="alt text, up to 1500 characters")
    focus: str | None = Field(default=None, description="focal point `x,y`, each -1..1")
    purpose: Literal["attachment", "avatar", "header"] = "attachment"


class MediaEditIn(RequestModel):
    description: str | None = Field(default=None, description="alt text")
    focus: str | None = Field(default=None, description="focal point `x,y`, each -1..1")


class PostOut(BaseModel):
    id: str
    url: str | None
    ap_id: str
    account: AccountOut
    text: str = Field(description="Markdown source")
    html: str = Field(description="sanitised HTML rendered from the source")
    summary: str = Field(description="content warning; empty when none")
    sensitive: bool
    language: str | None
    visibility: Visibility
    allow_likes: bool
    allow_replies: bool
    tags: list[str]
    mentions: list[MentionOut]
    in_reply_to_id: str | None
    in_reply_to_account_id: str | None
    share_of: PostOut | None = Field(description="the shared post, when this is a share")
    media: list[MediaOut]
    replies_count: int
    likes_count: int
    shares_count: int
    created_at: str
    edited_at: str | None
    liked: bool | None = Field(description="the viewer's state; null without login")
    shared: bool | None
    bookmarked: bool | None


class PostPage(BaseModel):
    posts: list[PostOut]
    newest: str | None = Field(description="id of the newest post on the page")
    oldest: str | None = Field(description="id of the oldest; pass as `until` for the next page")


NotificationType = Literal[
    "follow", "follow_request", "mention", "reply", "like", "share", "moderation_warning"
]


class NotificationOut(BaseModel):
    id: str
    type: NotificationType
    created_at: str
    read: bool
    account: AccountOut = Field(description="who did it")
    post: PostOut | None = Field(description="the post concerned; null for follows")
    text: str | None = Field(
        description="a moderation warning's words (the account is then the warned one)"
    )


class NotificationPage(BaseModel):
    notifications: list[NotificationOut]
    newest: str | None = Field(description="id of the newest notification on the page")
    oldest: str | None = Field(description="id of the oldest; pass as `until` for the next page")


class MarkReadIn(RequestModel):
    up_to: str | None = Field(default=None, description="mark this id and all older read")
    ids: list[str] | None = Field(default=None, description="or mark these ids read")


class CountOut(BaseModel):
    count: int


class TagOut(BaseModel):
    name: str
    url: str


class SearchOut(BaseModel):
    accounts: list[AccountOut]
    tags: list[TagOut]
    posts: list[PostOut]


# ---- follows, blocks, mutes and timelines


class FollowResult(BaseModel):
    state: Literal["pending"] = Field(
        description="the request waits for the account's approval (or a remote server's answer)"
    )


class AccountPageQuery(QueryModel):
    until: str | None = Field(default=None, description="the `next` of the previous page")
    limit: int = Field(default=40, ge=1, le=MAX_PAGE)


class TimelineQuery(QueryModel):
    since: str | None = Field(default=None, description="only posts newer than this id")
    until: str | None = Field(default=None, description="only posts older than this id")
    limit: int = Field(default=100, ge=1, le=MAX_PAGE)


# --- Posts -----------------------------------------------------------------------------


class PostIn(RequestModel):
    text: str = Field(description="Markdown; @mentions and #tags are linked")
    reply_to: str | None = Field(default=None, description="id of the post this replies to")
    tags: list[str] = Field(default_factory=list, description="added to the tags in the text")
    visibility: Visibility = "public"
    summary: str = Field(default="", description="content warning")
    sensitive: bool = Field(default=False, description="always true with a summary")
    allow_likes: bool = True
    allow_replies: bool = True
    media_ids: list[str] = Field(
        default_factory=list, description="up to 4 ready uploads of yours (422 while processing)"
    )
    language: str | None = Field(default=None, description="ISO 639 code, 2 or 3 letters")


class PostEditIn(RequestModel):
    text: str | None = Field(default=None, description="Markdown")
    summary: str | None = None
    sensitive: bool | None = None
    tags: list[str] | None = Field(default=None, description="replace the explicit tags")
    language: str | None = Field(default=None, description="null clears it")
    media_ids: list[str] | None = Field(
        default=None, description="replace the attachments ([] removes them)"
    )


class IdempotencyHeaders(BaseModel):
    idempotency_key: str | None = Field(
        default=None,
        alias="Idempotency-Key",
        description="a retry with the same key within 24 hours returns the first post",
    )


class PostThread(BaseModel):
    post: PostOut
    ancestors: list[PostOut] = Field(description="the posts above, oldest first (up to 40)")
    replies: list[PostOut] = Field(description="direct replies, oldest first (up to 40)")


class ContextOut(BaseModel):
    ancestors: list[PostOut] = Field(description="the posts above, oldest first (up to 40)")
    descendants: list[PostOut] = Field(
        description="the replies below and theirs, depth first, each level oldest first"
        " (up to 200 posts, 40 levels)"
    )


class BookmarkPage(BaseModel):
    posts: list[PostOut]
    newest: str | None = Field(description="bookmark id of the newest; pass as `since`")
    oldest: str | None = Field(description="bookmark id of the oldest; pass as `until`")


class LikesQuery(QueryModel):
    until: str | None = Field(default=None, description="`next` of the previous page")
    limit: int = Field(default=40, ge=1, le=MAX_PAGE)


def fails_with(*statuses: int) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Document the error answers of an endpoint (each an `Error` body), as a stack of
    `responds(Error, status)` would."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        for status in reversed(statuses):
            func = responds(Error, status)(func)
        return func

    return decorate
