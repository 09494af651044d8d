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
    # The queue it runs on: DEFAULT_QUEUE, or AGENTS_QUEUE for the slow model calls, so
    # `stgy worker --queues` can give them workers of their own.
    queue: str = "default"


DEFAULT_QUEUE = "default"
AGENTS_QUEUE = "agents"
QUEUES = (DEFAULT_QUEUE, AGENTS_QUEUE)


DELIVER_ACTIVITY = "deliver_activity"
HANDLE_OUTBOX_EVENT = "handle_outbox_event"
TRIM_TIMELINES = "trim_timelines"
PROBE_INSTANCES = "probe_instances"
BACKFILL_OUTBOX = "backfill_outbox"
FETCH_CONTEXT = "fetch_context"
REFRESH_REMOTE_ACCOUNT = "refresh_remote_account"
PROCESS_MEDIA = "process_media"
SWEEP_MEDIA = "sweep_media"
CACHE_REMOTE_MEDIA = "cache_remote_media"
SEND_MAIL = "send_mail"
RUN_AGENT = "run_agent"
SCHEDULE_AGENTS = "schedule_agents"
SUMMARISE_POST = "summarise_post"
ANNOUNCE_SUSPENSION = "announce_suspension"
MODERATION_SWEEP = "moderation_sweep"

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
    # Cron: trims home timelines in batches of owners; a failed run is redone next time.
    TRIM_TIMELINES: JobSettings(timeout=600, retries=1, retry_delay=0.0, retry_backoff=False),
    # Cron (the slow schedule of unavailable instances): 100 probes of 10 s at the most.
    PROBE_INSTANCES: JobSettings(timeout=1200, retries=1, retry_delay=0.0, retry_backoff=False),
    # Fetch jobs (see stgy.domain.remote.backfill, context_fetch, resolve): a few requests of
    # 10 s each, bounded in number. Retried three times over a few minutes when the
    # server did not answer; the key keeps one per account or post for ten minutes
    # after it ran (ttl), so page views do not make a fetch each.
    BACKFILL_OUTBOX: JobSettings(timeout=120, retries=3, retry_delay=30.0, retry_backoff=300.0),
    FETCH_CONTEXT: JobSettings(timeout=300, retries=3, retry_delay=30.0, retry_backoff=300.0),
    REFRESH_REMOTE_ACCOUNT: JobSettings(
        timeout=60, retries=3, retry_delay=30.0, retry_backoff=300.0
    ),
    # Renditions of one upload: a 50-megapixel image takes seconds. Retried for storage
    # failures; an image Pillow refuses is marked failed, not retried.
    PROCESS_MEDIA: JobSettings(timeout=120, retries=4, retry_delay=2.0, retry_backoff=60.0),
    # Cron: unattached media older than a day, and uploads whose job was lost.
    SWEEP_MEDIA: JobSettings(timeout=300, retries=1, retry_delay=0.0, retry_backoff=False),
    # One remote attachment copied here. Enqueued inside the transaction storing the
    # remote post, so a first attempt may not see the row yet: retried shortly.
    CACHE_REMOTE_MEDIA: JobSettings(timeout=60, retries=4, retry_delay=2.0, retry_backoff=60.0),
    # AI agents (docs/agents.md), on their own queue. One run is a few model calls of
    # ai.timeout each; a run that got no usable answer is tried again twice over about
    # ten minutes, then waits for its next turn (ai.interval).
    RUN_AGENT: JobSettings(
        timeout=600, retries=3, retry_delay=120.0, retry_backoff=600.0, queue=AGENTS_QUEUE
    ),
    # Cron, every minute: enqueue the agents whose run is due, and the summaries to make.
    SCHEDULE_AGENTS: JobSettings(
        timeout=60, retries=1, retry_delay=0.0, retry_backoff=False, queue=AGENTS_QUEUE
    ),
    # The Delete of a suspended local actor, scheduled for the end of the grace period;
    # idempotent (claims the account's row), and the moderation sweep catches lost ones.
    ANNOUNCE_SUSPENSION: JobSettings(
        timeout=60, retries=3, retry_delay=30.0, retry_backoff=300.0, ttl=-1
    ),
    # Cron, every minute: suspensions to announce whose job was lost, and purges of
    # accounts suspended for longer than moderation.suspension_days.
    MODERATION_SWEEP: JobSettings(timeout=300, retries=1, retry_delay=0.0, retry_backoff=False),
    # Two model calls (summary, embedding); its key keeps one per post for ten minutes.
    SUMMARISE_POST: JobSettings(
        timeout=300, retries=3, retry_delay=60.0, retry_backoff=600.0, queue=AGENTS_QUEUE
    ),
}


def delivery_job_key(activity_id: str, inbox_url: str) -> str:
    """One job key per activity and inbox, so a re-enqueue while it waits makes one job."""
    return f"deliver:{activity_id}:{inbox_url}"


def fetch_job_key(function: str, object_id: int) -> str:
    """One fetch job per account or post while it waits, runs, and for its ttl after."""
    return f"{function}:{object_id}"


def media_job_key(media_id: int) -> str:
    """One processing (or caching) job per medium while it waits."""
    return f"media:{media_id}"


def remote_media_job_key(media_id: int) -> str:
    return f"media-cache:{media_id}"


def agent_job_key(function: str, object_id: int) -> str:
    """One run per agent, one summary per post, while it waits, runs, and for its ttl."""
    return f"{function}:{object_id}"


def suspension_job_key(account_id: int, suspended_at: float) -> str:
    """One announcement job per suspension (a new suspension gets its own)."""
    return f"suspension:{account_id}:{suspended_at:.3f}"


def outbox_job_key(event_id: int) -> str:
    """One job key per event, so enqueueing an event twice while it waits makes one job."""
    return f"outbox:{event_id}"


def mail_job_key(message_id: str) -> str:
    """One job per message, so a mail enqueued twice while it waits is sent once."""
    return f"mail:{message_id.strip('<>')}"
