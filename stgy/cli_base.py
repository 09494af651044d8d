"""What the `stgy` command modules share: the one-line failure, running work with Services,
and argument types. Light on purpose: `stgy --help` and `stgy version` import it."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from stgy.config import Config
    from stgy.services import Services

T = TypeVar("T")


class CommandFailed(Exception):
    """A command could not do its work; the message is printed as one line."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


class AdminFailed(CommandFailed):
    """An admin command was refused; the message is printed as one line (exit 1)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 1)


def with_services(config: Config, work: Callable[[Services], Awaitable[T]]) -> T:
    """Run `work` with Services started for it; a domain refusal is an AdminFailed."""
    # Imported here: they bring the pools, clients and queue, which `stgy --help` and the
    # commands without a database do not need.
    from stgy.domain.errors import DomainError
    from stgy.services import Services

    async def run() -> T:
        services = await Services.start(config)
        try:
            return await work(services)
        finally:
            await services.close()

    try:
        return asyncio.run(run())
    except DomainError as exc:
        detail = exc.detail
        if isinstance(detail, dict) and "field" in detail:
            detail = f"{detail['field']}: {detail['reason']}"
        raise AdminFailed(str(detail)) from None


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else "-"


def days(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a number of days") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError("must be 0 or more days")
    return value


def positive(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value
