"""Delivering one activity to one inbox: sign as the sender, send, record the instance's health.

The job that runs this gets everything it needs as arguments (the sender's id, the
inbox and the rendered body). It is recorded in PostgreSQL in the transaction that
asks for it and enqueued after the commit, so a Redis that loses its data loses no
delivery (stgy/domain/jobs/durable_jobs.py). Delivering twice (a worker killed between
the send and the record's deletion) is harmless: inboxes drop an activity id seen
before.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

import httpx

from federation.deliver import DeliveryResult, Scheme, deliver
from federation.ssrf import UnsafeTarget
from stgy.domain.jobs import durable_jobs
from stgy.domain.remote.activitypub import instance_key
from stgy.domain.remote.remote_keys import domains_of, host_of
from stgy.jobs import DELIVER_ACTIVITY, delivery_job_key
from stgy.logs import quote
from stgy.services import Services
from storage import deliveries as deliveries_sql
from storage.db import Conn
from storage.deliveries import InstanceHealth, SigningKey

log = logging.getLogger("stgy.delivery")

# The sender id of what the instance actor (`/actor`) sends, e.g. a forwarded report: no
# account has id 0 (ids are time-ordered and positive).
INSTANCE_ACTOR = 0

# Each request of an attempt (two with the double knock) must be answered this fast.
REQUEST_TIMEOUT = 10.0


class DeliveryFailed(Exception):
    """An attempt that is worth repeating failed (5xx, 429, timeout, no connection):
    raised so that SAQ retries the job with backoff."""

    def __init__(self, inbox_url: str, error: str | None) -> None:
        super().__init__(f"{inbox_url}: {error}")
        self.inbox_url = inbox_url
        self.error = error


async def enqueue_deliveries(
    conn: Conn, *, sender_id: int, inbox_urls: list[str], activity_id: str, body: bytes
) -> int:
    """Record the delivery of a rendered activity to each inbox in the caller's transaction
    (sent after its commit; stgy/domain/jobs/durable_jobs.py); one already waiting is not
    recorded again. How many were recorded."""
    text = body.decode()
    return await durable_jobs.record(
        conn,
        DELIVER_ACTIVITY,
        [delivery_job_key(activity_id, inbox) for inbox in inbox_urls],
        [
            {"sender_id": sender_id, "inbox_url": inbox, "activity_id": activity_id, "body": text}
            for inbox in inbox_urls
        ],
    )


async def deliver_activity(
    services: Services, *, sender_id: int, inbox_url: str, activity_id: str, body: str
) -> str:
    """One attempt: 'delivered', or 'gone', 'refused', 'unsigned' or 'skipped' (none retried);
    raises DeliveryFailed when the attempt is worth repeating."""
    domain = host_of(inbox_url)
    if domain is None:
        log.warning("delivery_refused activity=%s inbox=%s", quote(activity_id), quote(inbox_url))
        return "refused"
    key = await _signing_key(services, sender_id)
    if key is None:
        # Not a local account with a key (deleted since?): nothing can be signed, ever.
        log.warning("delivery_unsigned activity=%s sender=%d", quote(activity_id), sender_id)
        return "unsigned"
    health = await _health(services, domain)
    if health.blocked:
        log.info(
            "delivery_skipped activity=%s inbox=%s reason=blocked",
            quote(activity_id),
            quote(inbox_url),
        )
        return "skipped"
    if health.unavailable:
        # Failing for days: skipped until the probe finds it answering again.
        log.info(
            "delivery_skipped activity=%s inbox=%s reason=unavailable",
            quote(activity_id),
            quote(inbox_url),
        )
        return "skipped"
    known = health.signature_scheme
    scheme: Scheme = "rfc9421" if known == "rfc9421" else "cavage"
    result = await deliver(
        services.http,
        inbox_url,
        body.encode(),
        key_id=key.key_id,
        private_key_pem=key.private_key_pem,
        scheme=scheme,
        allow_private=services.config.address_scope,
        timeout=REQUEST_TIMEOUT,
    )
    await _record(services, domain, result, health)
    log.info(
        "delivery activity=%s inbox=%s status=%s scheme=%s outcome=%s%s",
        quote(activity_id),
        quote(inbox_url),
        result.status,
        result.scheme_used,
        _outcome(result),
        f" error={quote(result.error)}" if result.error else "",
    )
    if result.retry:
        raise DeliveryFailed(inbox_url, result.error)
    return _outcome(result)


def _outcome(result: DeliveryResult) -> str:
    if result.accepted:
        return "delivered"
    if result.retry:
        return "retry"
    return "gone" if result.gone else "refused"


async def _record(
    services: Services, domain: str, result: DeliveryResult, health: InstanceHealth
) -> None:
    # `failures` counts attempts in a row the instance did not answer usefully. A
    # permanent refusal of one activity (410, other 4xx) says nothing about the
    # instance, so it changes nothing. A success is written only when it changes
    # something (or the last one written is old), not once per delivery.
    if result.accepted:
        fresh = (
            health.last_success_at is not None
            and datetime.now(UTC) - health.last_success_at < SUCCESS_REFRESH
        )
        if fresh and health.failures == 0 and health.signature_scheme == result.scheme_used:
            return
        async with services.pool.acquire() as conn:
            await deliveries_sql.record_success(conn, domain=domain, scheme=result.scheme_used)
        _HEALTH[domain] = (
            time.monotonic(),
            InstanceHealth(False, result.scheme_used, 0, datetime.now(UTC), health.blocked),
        )
    elif result.retry:
        _HEALTH.pop(domain, None)
        days = services.config.federation.unavailable_after_days
        async with services.pool.acquire() as conn:
            if await deliveries_sql.record_failure(
                conn, domain=domain, unavailable_after_seconds=days * 86400
            ):
                log.warning("instance_unavailable domain=%s", quote(domain))


# Per-process caches: a sender's key (keys do not change while an account lives) and an
# instance's health, so that a delivery usually costs no query at all. Another process
# marking an instance unavailable is seen within HEALTH_TTL.
KEY_TTL = 300.0
HEALTH_TTL = 30.0
SUCCESS_REFRESH = timedelta(minutes=5)
_KEYS: dict[int, tuple[float, SigningKey | None]] = {}
_HEALTH: dict[str, tuple[float, InstanceHealth]] = {}
_CACHE_MAX = 10_000


def forget_instance(domain: str) -> None:
    """Drop what this process remembers of an instance (after an admin changed it)."""
    for known in [d for d in _HEALTH if d == domain or d.endswith("." + domain)]:
        _HEALTH.pop(known, None)


async def _signing_key(services: Services, sender_id: int) -> SigningKey | None:
    cached = _KEYS.get(sender_id)
    if cached is not None and time.monotonic() - cached[0] < KEY_TTL:
        return cached[1]
    key: SigningKey | None
    if sender_id == INSTANCE_ACTOR:
        made = await instance_key(services)
        key = SigningKey(made.key_id, made.private_pem)
    else:
        async with services.pool.acquire() as conn:
            key = await deliveries_sql.signing_key(conn, account_id=sender_id)
    if len(_KEYS) >= _CACHE_MAX:
        _KEYS.clear()
    _KEYS[sender_id] = (time.monotonic(), key)
    return key


async def _health(services: Services, domain: str) -> InstanceHealth:
    cached = _HEALTH.get(domain)
    if cached is not None and time.monotonic() - cached[0] < HEALTH_TTL:
        return cached[1]
    async with services.pool.acquire() as conn:
        health = await deliveries_sql.instance_health(
            conn, domain=domain, domains=domains_of(domain)
        )
    if len(_HEALTH) >= _CACHE_MAX:
        _HEALTH.clear()
    _HEALTH[domain] = (time.monotonic(), health)
    return health


# Unavailable instances probed per run of the cron job, and how long each may take.
PROBE_BATCH = 100
PROBE_TIMEOUT = 10.0


def probe_url(domain: str) -> str:
    """A cheap document every server answers: its NodeInfo links (http for localhost)."""
    host = domain.rsplit(":", 1)[0] if not domain.endswith("]") else domain
    local = host == "localhost" or host.endswith(".localhost") or host.startswith("127.")
    return f"{'http' if local else 'https'}://{domain}/.well-known/nodeinfo"


async def probe_unavailable_instances(services: Services) -> int:
    """Ask each unavailable instance whether it answers again; any answer below 500 makes
    it available (deliveries resume). Returns how many came back."""
    async with services.pool.acquire() as conn:
        domains = await deliveries_sql.unavailable_domains(conn, limit=PROBE_BATCH)
    back = 0
    for domain in domains:
        try:
            response = await services.http.get(probe_url(domain), timeout=PROBE_TIMEOUT)
            answered = response.status_code < 500
        except (httpx.HTTPError, UnsafeTarget, OSError):
            answered = False
        async with services.pool.acquire() as conn:
            _HEALTH.pop(domain, None)
            if answered:
                await deliveries_sql.record_success(conn, domain=domain, scheme=None)
                back += 1
            else:
                await deliveries_sql.record_probe_failure(conn, domain=domain)
        log.info("instance_probe domain=%s available=%s", quote(domain), answered)
    return back
