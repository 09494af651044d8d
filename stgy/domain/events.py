"""Imports every module that registers outbox handlers, so app and worker know them all.

Handlers of one kind run in the order their modules were first imported. The list
keeps the order it had when the domain was one flat folder (alphabetical by module
name, `uploads` where `media` was), so the worker runs them as it did; isort would
sort it by package instead.
"""

# isort: off
from stgy.domain import accounts  # noqa: F401
from stgy.domain.remote import backfill  # noqa: F401
from stgy.domain.mail import email_confirmation  # noqa: F401
from stgy.domain import fanout  # noqa: F401
from stgy.domain.remote import follow_replies, inbox  # noqa: F401

# after notifications: it imports that module first
from stgy.domain.mail import mail_notifications  # noqa: F401
from stgy.domain.media import uploads  # noqa: F401
from stgy.domain import notifications  # noqa: F401
from stgy.domain.remote import outgoing, outgoing_social  # noqa: F401
from stgy.domain import public_streams, renderings, streaming  # noqa: F401
from stgy.domain import conversations, tag_follows  # noqa: F401

# isort: on
