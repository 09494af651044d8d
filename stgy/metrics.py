"""Prometheus metrics: requests, latency, jobs; shared across processes when configured."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

CONTENT_TYPE = CONTENT_TYPE_LATEST
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# Shared across processes, every value written asks which process it is in, to notice
# a fork; by default that is a getpid() system call, three per request (a tenth of the
# home page's samples under load). The process id is kept here instead, and renewed
# in a forked child, which is all the check needs.
_PROCESS = [os.getpid()]


def process_id() -> int:
    return _PROCESS[0]


def _forked() -> None:
    _PROCESS[0] = os.getpid()


os.register_at_fork(after_in_child=_forked)
if getattr(values.ValueClass, "_multiprocess", False):
    values.ValueClass = values.MultiProcessValue(process_identifier=process_id)  # type: ignore[no-untyped-call]

REQUESTS = Counter(
    "stgy_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
REQUEST_SECONDS = Histogram(
    "stgy_http_request_duration_seconds",
    "Time from request to response",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
JOBS = Counter("stgy_jobs_total", "Jobs run by the worker", ["name", "outcome"])
JOB_SECONDS = Histogram(
    "stgy_job_duration_seconds",
    "Time one job attempt ran",
    ["name"],
    buckets=(0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0),
)

# AI agents (docs/agents.md): per agent handle ("summaries" for the post summaries).
AGENT_CALLS = Counter(
    "stgy_agent_model_calls_total", "Model calls made for an agent", ["agent", "outcome"]
)
AGENT_TOKENS = Counter(
    "stgy_agent_tokens_total", "Tokens the model server counted for an agent", ["agent", "kind"]
)
AGENT_ACTIONS = Counter("stgy_agent_actions_total", "What agents did", ["agent", "action"])


# Label children by their label values: `labels()` validates and locks on every call.
# Labels never hold what a client chose: routes are the app's rules ("unmatched" for
# none), methods one of METHODS or "other", statuses the ones we answer; so the label
# sets are few (and never more than MAX_LABEL_SETS are remembered here).
_REQUEST_CHILDREN: dict[tuple[str, str, str], tuple[Any, Any]] = {}
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
MAX_LABEL_SETS = 10_000


def observe_request(method: str, route: str, status: str, seconds: float) -> None:
    """Count a request and its time, under its route's rule (never its path)."""
    if method not in METHODS:
        method = "other"
    key = (method, route, status)
    children = _REQUEST_CHILDREN.get(key)
    if children is None:
        children = (REQUESTS.labels(method, route, status), REQUEST_SECONDS.labels(route))
        if len(_REQUEST_CHILDREN) < MAX_LABEL_SETS:
            _REQUEST_CHILDREN[key] = children
    children[0].inc()
    children[1].observe(seconds)


@dataclass(frozen=True)
class Figures:
    """Values read at scrape time from Redis and PostgreSQL; -1 when unreadable."""

    queue_depth: int = -1
    outbox_pending: int = -1
    outbox_oldest_seconds: float = -1.0
    instances_failing: int = -1
    instances_unavailable: int = -1
    # Dead letters (outbox events out of attempts) per event kind: every kind is named,
    # with 0 when it has none, and -1 when unreadable.
    dead_letters: tuple[tuple[str, int], ...] = ()


class _Snapshot:
    """Values read at scrape time as a one-off collector."""

    def __init__(self, queue: str, figures: Figures) -> None:
        self.queue, self.figures = queue, figures

    def collect(self) -> Iterator[Metric]:
        figures = self.figures
        gauge = GaugeMetricFamily("stgy_queue_depth", "Jobs waiting in the queue", labels=["queue"])
        gauge.add_metric([self.queue], figures.queue_depth)
        yield gauge
        yield GaugeMetricFamily(
            "stgy_outbox_pending", "Outbox events not applied yet", value=figures.outbox_pending
        )
        yield GaugeMetricFamily(
            "stgy_outbox_oldest_pending_seconds",
            "Age of the oldest outbox event not applied yet (0 when none)",
            value=figures.outbox_oldest_seconds,
        )
        yield GaugeMetricFamily(
            "stgy_instances_failing",
            "Other instances whose latest deliveries failed",
            value=figures.instances_failing,
        )
        yield GaugeMetricFamily(
            "stgy_instances_unavailable",
            "Other instances skipped as unavailable until they answer again",
            value=figures.instances_unavailable,
        )
        dead = GaugeMetricFamily(
            "stgy_dead_letters",
            "Outbox events that failed every attempt, waiting for an admin (stgy jobs failed)",
            labels=["kind"],
        )
        for kind, count in figures.dead_letters:
            dead.add_metric([kind], count)
        yield dead


def render(queue: str, figures: Figures) -> bytes:
    """The exposition text: this process's (or all processes') metrics plus the figures
    read at scrape time."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    extra = CollectorRegistry()
    extra.register(_Snapshot(queue, figures))
    return body + generate_latest(extra)
