"""Prometheus metrics: what operators graph and alert on.

Counters and histograms are per process (scrape every API and worker process); queue depth is read from
the database at scrape time, so any process reports the whole queue.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import text
from sqlmodel import Session

from delivery.base import DeliveryResult

REGISTRY = CollectorRegistry(auto_describe=True)

HANDOFFS = Counter(
    "ccm_handoffs_total",
    "Hand-offs to channel providers, by provider and outcome (accepted, transient_error, permanent_error).",
    ["channel", "provider", "outcome"],
    registry=REGISTRY,
)
MESSAGES_FINISHED = Counter(
    "ccm_messages_finished_total",
    "Messages reaching a final state in this process (sent, failed), by channel.",
    ["channel", "status"],
    registry=REGISTRY,
)
RESUMED_HANDOFFS = Counter(
    "ccm_resumed_handoffs_total",
    "Hand-offs started by a worker that died before recording the outcome: possible duplicates.",
    ["channel"],
    registry=REGISTRY,
)
PROVIDER_FAILURES = Counter(
    "ccm_provider_failures_total",
    "Providers that failover passed over during a hand-off, by provider and reason (transient_error,"
    " circuit_open); the hand-off's own outcome is in ccm_handoffs_total.",
    ["provider", "reason"],
    registry=REGISTRY,
)
TRACKED = Counter(
    "ccm_tracked_total",
    "Tracked opens and clicks, by event and by who made them: human, or the machine rule's reason"
    " (head_request, scanner_agent, click_burst, too_soon_after_delivery, image_proxy:..., apple_mpp_...).",
    ["event", "judged"],
    registry=REGISTRY,
)
RENDER_SECONDS = Histogram(
    "ccm_render_seconds",
    "Time to render and compose the exact bytes of one message.",
    ["channel"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    registry=REGISTRY,
)
HANDOFF_SECONDS = Histogram(
    "ccm_handoff_seconds",
    "Time a provider took to accept or refuse one message.",
    ["channel", "provider"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)


def count_provider_failures(result: DeliveryResult) -> None:
    """Count every provider failover passed over on the way to `result` (one per failed leg)."""
    for leg in result.failed_legs:
        PROVIDER_FAILURES.labels(leg.provider, leg.reason.value).inc()


QUEUE_DEPTH = text("SELECT status, lane, count(*) FROM messages GROUP BY status, lane")
"""Read by table name: metrics sit below the outbox's domain, which counts into them."""


class QueueDepthCollector(Collector):
    """`ccm_queue_depth{status,lane}` straight from the messages table."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def collect(self):  # type: ignore[no-untyped-def]
        gauge = GaugeMetricFamily(
            "ccm_queue_depth", "Messages by status and lane.", labels=["status", "lane"]
        )
        rows = self.session.execute(QUEUE_DEPTH).all()
        for status, lane, count in rows:
            gauge.add_metric([str(status), str(lane)], float(count))
        yield gauge
