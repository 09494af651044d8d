"""JSON shapes of the native API (pydantic models, for validation and OpenAPI)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from stgy.api.validation import RequestModel

Visibility = Literal["public", "unlisted", "followers", "direct", "local"]


class Error(BaseModel):
    error: str
    detail: object = None


class ProfileField(BaseModel):
    name: str
    value: str


class AccountOut(BaseModel):
    id: str = Field(description="64-bit id as a decimal string")
    handle: str
    acct: str = Field(description="handle for local accounts, handle@domain for remote ones")
    domain: str | None
    local: bool
    display_name: str
    bio: str = Field(description="Markdown source (empty for remote accounts)")
    bio_html: str
    fields: list[ProfileField]
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
    fields: list[ProfileField] | None = None
    avatar_media_id: str | None = None
    header_media_id: str | None = None


class PasswordIn(RequestModel):
    password: str


class AccountList(BaseModel):
    accounts: list[AccountOut]
    next: str | None = Field(description="pass as `until` for the next page, null at the end")


class MentionOut(BaseModel):
    id: str
    handle: str
    acct: str
    url: str | None


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
    media: list[dict[str, object]]
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
