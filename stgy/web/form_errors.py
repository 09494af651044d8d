"""Domain errors as a form shows them: a translated message per field, or one for the form.

The domain speaks English to API clients (`Invalid("password", "too easy to guess")`);
the web face shows the same facts in the page's language. A reason without a
translation here is shown as the domain wrote it, so a new one is never lost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stgy.domain import accounts
from stgy.domain.errors import DomainError, Invalid
from stgy.web.i18n import gettext as _


@dataclass
class FormErrors:
    """What to show next to each field (by its name) and above the form."""

    fields: dict[str, str] = field(default_factory=dict)
    form: str | None = None

    def __bool__(self) -> bool:
        return bool(self.fields) or self.form is not None


def _reasons() -> dict[str, Callable[[], str]]:
    # Built per call: gettext answers in the request's language.
    return {
        "1 to 30 letters, digits or underscores": lambda: _(
            "Use 1 to 30 letters, digits or underscores (no spaces)."
        ),
        f"must be at least {accounts.MIN_PASSWORD} characters": lambda: _(
            "Use at least %(count)d characters.", count=accounts.MIN_PASSWORD
        ),
        f"must be at most {accounts.MAX_PASSWORD} characters": lambda: _(
            "Use at most %(count)d characters.", count=accounts.MAX_PASSWORD
        ),
        "too easy to guess": lambda: _("This password is too easy to guess."),
        "must not contain the handle or be the email": lambda: _(
            "The password must not contain your user name or be your email address."
        ),
        "not an email address": lambda: _("This is not an email address."),
        f"at most {accounts.MAX_DISPLAY_NAME} characters": lambda: _(
            "Use at most %(count)d characters.", count=accounts.MAX_DISPLAY_NAME
        ),
        f"at most {accounts.MAX_REGISTRATION_REASON} characters": lambda: _(
            "Use at most %(count)d characters.", count=accounts.MAX_REGISTRATION_REASON
        ),
        "already taken": lambda: _("This is already taken."),
        "already registered": lambda: _("An account already uses this email address."),
        "registrations are closed on this instance": lambda: _(
            "This server does not accept new accounts."
        ),
        "wrong login or password": lambda: _("Wrong user name, email or password."),
        "this account is suspended": lambda: _("This account is suspended."),
        "this account is waiting for approval by a moderator": lambda: _(
            "This account is waiting for a moderator's approval."
        ),
        "unknown, used or expired token": lambda: _(
            "This link has expired, was already used, or is not one of ours."
        ),
        "required: the account's email address or handle": lambda: _("Fill this in."),
        "wrong password": lambda: _("Wrong password."),
        "that is the current address": lambda: _("This is already your address."),
        "already confirmed": lambda: _("This address is already confirmed."),
        "too many mails asked for": lambda: _("Too many mails were sent. Try again later."),
        "too many failed logins": lambda: _(
            "Too many failed attempts. Wait a minute and try again."
        ),
        "a 2 or 3 letter language code (ISO 639)": lambda: _(
            "Use a two or three letter code, such as en or ja."
        ),
    }


def translate_reason(reason: str) -> str:
    known = _reasons().get(reason)
    return known() if known is not None else reason


def _reason_of(detail: Any) -> tuple[str | None, str]:
    if isinstance(detail, dict):
        found = detail.get("field")
        return (found if isinstance(found, str) else None), str(detail.get("reason", ""))
    return None, str(detail or "")


def form_errors(error: DomainError, fields: tuple[str, ...]) -> FormErrors:
    """`error` placed next to one of `fields` when it names one, else above the form."""
    name: str | None
    if isinstance(error, Invalid):
        name, reason = error.field, error.reason
    else:  # Conflict, Forbidden, RateLimited... carry a reason, some a field too
        name, reason = _reason_of(error.detail)
    message = translate_reason(reason) if reason else _("Something went wrong. Try again.")
    if name in fields:
        return FormErrors(fields={name: message})
    return FormErrors(form=message)


def required(values: dict[str, str], names: tuple[str, ...]) -> FormErrors:
    """An error for each of `names` left empty."""
    missing = {name: _("Fill this in.") for name in names if not values.get(name, "").strip()}
    return FormErrors(fields=missing)
