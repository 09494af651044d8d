"""The moderators' dashboard (/admin/): the instance's people and posts, open reports, and
the health of the machinery, read with the queries NodeInfo and /metrics use."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from redis.exceptions import RedisError

from stgy.domain import roles
from stgy.domain.roles import Staff
from stgy.services import Services
from storage import activitypub as ap_sql
from storage import deliveries as deliveries_sql
from storage import outbox as outbox_sql
from storage import reports as reports_sql

_QUEUE_TIMEOUT = 2.0


@dataclass(frozen=True)
class Dashboard:
    users: int  # approved, live local accounts
    active_month: int  # of them, logged in or posted in the last 30 days
    local_posts: int
    open_reports: int
    queue_depth: int | None  # jobs waiting; None when Redis did not answer
    outbox_pending: int  # outbox events not applied yet
    outbox_oldest_seconds: float  # age of the oldest of them (0 when none)
    instances_failing: int  # instances whose latest deliveries failed
    instances_unavailable: int  # skipped until they answer again


async def _queue_depth(services: Services) -> int | None:
    """The queue's depth, or None: the page must show when Redis is what is wrong."""
    try:
        return await asyncio.wait_for(services.jobs.depth(), _QUEUE_TIMEOUT)
    except (RedisError, OSError, TimeoutError):
        return None


async def figures(services: Services, staff: Staff) -> Dashboard:
    roles.require(staff, roles.MODERATOR)
    async with services.pool.acquire() as conn:
        counts = await ap_sql.instance_counts(conn)
        open_reports = await reports_sql.count_open(conn)
        backlog = await outbox_sql.backlog(conn)
        instances = await deliveries_sql.instance_counts(conn)
    return Dashboard(
        users=counts.users,
        active_month=counts.active_month,
        local_posts=counts.local_posts,
        open_reports=open_reports,
        queue_depth=await _queue_depth(services),
        outbox_pending=backlog.pending,
        outbox_oldest_seconds=backlog.oldest_seconds,
        instances_failing=instances.failing,
        instances_unavailable=instances.unavailable,
    )
