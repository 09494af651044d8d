"""Imports every module that registers outbox handlers, so app and worker know them all."""

from stgy.domain import (
    accounts,  # noqa: F401
    backfill,  # noqa: F401
    email_confirmation,  # noqa: F401
    fanout,  # noqa: F401
    follow_replies,  # noqa: F401
    inbox,  # noqa: F401
    mail_notifications,  # noqa: F401 - after notifications: it imports that module first
    media,  # noqa: F401
    notifications,  # noqa: F401
    outgoing,  # noqa: F401
    outgoing_social,  # noqa: F401
    renderings,  # noqa: F401
    streaming,  # noqa: F401
)
