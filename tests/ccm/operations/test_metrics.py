"""Prometheus metrics: queue depth per lane and status, hand-offs per provider, render timings; admin only."""

from __future__ import annotations

from typing import Any

from ccm.access.models import Role
from ccm.operations import metrics
from delivery import DeliveryResult, Outcome
from delivery.base import FailureReason, ProviderFailure
from tests.ccm.conftest import INVOICE, Service, send


def test_metrics_report_queue_depth_and_handoffs(service: Service, customer: dict[str, Any]) -> None:
    send(service, INVOICE, "metrics-1")
    send(service, {**INVOICE, "send_at": "2199-01-01T00:00:00Z"}, "metrics-2")
    service.work()
    response = service.client.get("/metrics", headers=service.headers())
    assert response.status_code == 200
    text = response.text
    assert 'ccm_queue_depth{lane="transactional",status="queued"} 1.0' in text
    assert 'ccm_queue_depth{lane="transactional",status="sent"} 1.0' in text
    assert 'ccm_handoffs_total{channel="email",outcome="accepted",provider="email-outbox"}' in text
    assert "ccm_render_seconds_bucket" in text
    assert service.client.get("/metrics", headers=service.headers(Role.MARKETER)).status_code == 403


def test_each_failed_provider_leg_is_counted_by_provider_and_reason() -> None:
    def count(provider: str, reason: str) -> float:
        labels = {"provider": provider, "reason": reason}
        return metrics.REGISTRY.get_sample_value("ccm_provider_failures_total", labels) or 0.0

    before = (count("smtp-a", "transient_error"), count("ses-b", "circuit_open"))
    result = DeliveryResult(
        Outcome.ACCEPTED,
        "twilio-c",
        "SM1",
        failed_legs=(
            ProviderFailure("smtp-a", FailureReason.TRANSIENT_ERROR, "421 try later"),
            ProviderFailure("ses-b", FailureReason.CIRCUIT_OPEN, "skipped, circuit open"),
        ),
    )

    metrics.count_provider_failures(result)
    metrics.count_provider_failures(DeliveryResult(Outcome.ACCEPTED, "twilio-c"))  # no legs, no counts

    assert (count("smtp-a", "transient_error"), count("ses-b", "circuit_open")) == (
        before[0] + 1,
        before[1] + 1,
    )
    assert count("twilio-c", "transient_error") == 0.0


def test_metrics_page_describes_provider_failures(service: Service) -> None:
    text = service.client.get("/metrics", headers=service.headers()).text
    assert "# TYPE ccm_provider_failures_total counter" in text
