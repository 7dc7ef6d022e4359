"""Prometheus metrics: queue depth per lane and status, hand-offs per provider, render timings; admin only."""

from __future__ import annotations

from typing import Any

from ccm.access.models import Role
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
