"""Job names and their settings: the contract between code that enqueues and the worker.

The app enqueues jobs by name (it never imports `tasks/`); the worker registers
one function per name here. SAQ's defaults (10 s, one try) are wrong for most of
our work, so every job states its timeout, retries and backoff.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JobSettings:
    timeout: int  # seconds one attempt may run
    retries: int  # attempts in all, the first included
    retry_delay: float  # seconds before the first retry
    retry_backoff: bool | float  # True: exponential, a number caps the delay
    # Seconds SAQ keeps a finished job (its key dedupes re-enqueues meanwhile); -1: none.
    ttl: int = 600


DELIVER_ACTIVITY = "deliver_activity"
HANDLE_OUTBOX_EVENT = "handle_outbox_event"
SWEEP_OUTBOX = "sweep_outbox"
TRIM_TIMELINES = "trim_timelines"
SEND_MAIL = "send_mail"

JOBS: dict[str, JobSettings] = {
    # Applies one outbox event; the sweeper re-enqueues it if every attempt fails.
    HANDLE_OUTBOX_EVENT: JobSettings(timeout=120, retries=5, retry_delay=1.0, retry_backoff=60.0),
    # One activity to one inbox. Each attempt is two requests at most (the double knock)
    # of 10 s each. 14 attempts in all: SAQ waits random() * min(6 h, 60 s * 2**(n-1))
    # after attempt n, so the 13 waits are at most 1, 2, 4, ... 256 min, then 6 h four
    # times: the attempts span about 32 h at the most and 16 h on average.
    # Forgotten once finished (ttl=-1), so its key dedupes only while it waits: an
    # Accept of a follow made again later is sent again.
    DELIVER_ACTIVITY: JobSettings(
        timeout=30, retries=14, retry_delay=60.0, retry_backoff=6 * 3600.0, ttl=-1
    ),
    # One rendered mail through the configured backend. 10 attempts: SAQ waits
    # random() * min(1 h, 30 s * 2**(n-1)) after attempt n, so a relay that is down
    # for a few hours still gets the mail. Forgotten once finished (ttl=-1): the
    # message text holds tokens, which should not outlive their sending in Redis.
    SEND_MAIL: JobSettings(timeout=60, retries=10, retry_delay=30.0, retry_backoff=3600.0, ttl=-1),
    # Cron: cheap and frequent, so a failed run is simply the next run.
    SWEEP_OUTBOX: JobSettings(timeout=60, retries=1, retry_delay=0.0, retry_backoff=False),
    # Cron: trims home timelines in batches of owners; a failed run is redone next time.
    TRIM_TIMELINES: JobSettings(timeout=600, retries=1, retry_delay=0.0, retry_backoff=False),
}


def delivery_job_key(activity_id: str, inbox_url: str) -> str:
    """One job key per activity and inbox, so a re-enqueue while it waits makes one job."""
    return f"deliver:{activity_id}:{inbox_url}"


def outbox_job_key(event_id: int) -> str:
    """One job key per event, so enqueueing an event twice while it waits makes one job."""
    return f"outbox:{event_id}"


def mail_job_key(message_id: str) -> str:
    """One job per message, so a mail enqueued twice while it waits is sent once."""
    return f"mail:{message_id.strip('<>')}"
