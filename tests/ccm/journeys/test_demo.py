"""`ccm seed-demo` adds the issue's invoice chase, live, once: an `invoice_issued` event for a demo customer
enrols them, and the run's SMS step uses the `invoice-reminder` starter template."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import func, select

from ccm.cli import _parser
from ccm.database import session_scope
from ccm.journeys.models import Journey, JourneyVersion
from tests.ccm.conftest import Service
from tests.ccm.journeys.conftest import Clock, enrol, invoice, messages, run


def seed_demo(service: Service, capsys: pytest.CaptureFixture[str]) -> str:
    args = _parser().parse_args(["seed-demo"])
    assert args.handler(service.settings, args) == 0
    return capsys.readouterr().out


def test_seed_demo_twice_adds_one_live_invoice_chase(
    service: Service, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "journeys added: invoice-chase" in seed_demo(service, capsys)
    assert "journeys added: none (already there)" in seed_demo(service, capsys)
    with session_scope(service.runtime.engine) as session:
        assert session.exec(select(func.count()).select_from(Journey)).one() == 1
        assert session.exec(select(func.count()).select_from(JourneyVersion)).one() == 1
    response = service.client.get("/v1/journeys/invoice-chase", headers=service.headers())
    assert response.status_code == 200, response.text
    journey: dict[str, Any] = response.json()
    assert (journey["state"], journey["live_version"]) == ("active", 1)
    assert [step["id"] for step in journey["definition"]["steps"]] == ["mail", "wait", "check", "sms", "done"]

    enrol(service, "invoice_issued", invoice("D-7"), customer="c-2")  # Marco Bianchi: email and phone
    run(service)
    clock.advance(timedelta(hours=49))
    run(service)
    sent = [(m.template_key, m.channel, m.context["invoice"]["number"]) for m in messages(service)]
    assert sent == [("invoice", "email", "D-7"), ("invoice-reminder", "sms", "D-7")]
