"""A/B winner selection: after the test time the variant people opened most (by rate) is chosen once,
from recorded human opens only, and every later run goes to it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from sqlmodel import select

from ccm.communications.models import Message
from ccm.database import session_scope
from ccm.errors import Unprocessable
from ccm.journeys.checks import check_definition
from ccm.journeys.definition import JourneyContent
from ccm.journeys.models import SplitWinner
from tests.ccm.conftest import Service
from tests.ccm.journeys.conftest import Clock, create, enrol, invoice, record_open, run, step_runs

SPLIT = {
    "variants": [
        {"name": "a", "percent": 50, "next": "mail-a"},
        {"name": "b", "percent": 50, "next": "mail-b"},
    ],
    "winner": {"by": "opened", "after": "P1D"},
}
STEPS: list[dict[str, Any]] = [
    {"id": "ab", "split": SPLIT},
    {"id": "mail-a", "send": {"template": "invoice", "channel": "email"}, "next": "end"},
    {"id": "mail-b", "send": {"template": "invoice", "channel": "email"}},
    {"id": "end", "exit": {}},
]
AB = {
    "key": "ab",
    "name": "A/B",
    "category": "transactional",
    "trigger": {"event": "go"},
    "reentry": "every_time",
    "steps": STEPS,
}


def add_customers(service: Service, count: int, prefix: str) -> list[str]:
    ids = [f"{prefix}-{i}" for i in range(count)]
    for external_id in ids:
        body = {
            "email": f"{external_id}@example.com",
            "locale": "en",
            "timezone": "UTC",
            "attributes": {"first_name": "Ada", "last_name": "Byron"},
        }
        response = service.client.put(f"/v1/customers/{external_id}", json=body, headers=service.headers())
        assert response.status_code in (200, 201), response.text
    return ids


def test_the_variant_people_opened_most_wins(service: Service, clock: Clock) -> None:
    create(service, AB)
    runs = [enrol(service, "go", invoice(), customer=c) for c in add_customers(service, 24, "t")]
    run(service)
    variants = {run_id: step_runs(service, run_id)["ab"].detail["variant"] for run_id in runs}
    assert set(variants.values()) == {"a", "b"}
    for run_id, variant in variants.items():
        message_id = step_runs(service, run_id)[f"mail-{variant}"].message_id
        assert message_id is not None
        record_open(service, message_id, machine=variant == "a")  # only b's opens are people's
    opened_b = sum(1 for v in variants.values() if v == "b")

    clock.advance(timedelta(hours=23))
    early = enrol(service, "go", invoice(), customer=add_customers(service, 1, "early")[0])
    run(service)
    assert "winner" not in step_runs(service, early)["ab"].detail, "the test is still running"

    clock.advance(timedelta(hours=2))
    late = [enrol(service, "go", invoice(), customer=c) for c in add_customers(service, 6, "late")]
    run(service)
    for run_id in late:
        assert step_runs(service, run_id)["ab"].detail == {"variant": "b", "winner": True}
        assert "mail-b" in step_runs(service, run_id)
    with session_scope(service.runtime.engine) as session:
        [winner] = session.exec(select(SplitWinner)).all()
        assert len(session.exec(select(Message)).all()) == 24 + 1 + 6
    assert winner.variant == "b"
    assert winner.rates["a"]["opened"] == 0
    assert winner.rates["b"]["opened"] == opened_b and winner.rates["b"]["rate"] > 0


def test_a_winner_needs_a_send_step_per_variant() -> None:
    steps = [{**STEPS[0]}, {"id": "mail-a", "update": {"attribute": "x", "value": 1}}, *STEPS[2:]]
    content = JourneyContent.model_validate({"name": "J", "trigger": {"event": "go"}, "steps": steps})
    with pytest.raises(Unprocessable) as raised:
        check_definition(content)
    assert (raised.value.code, raised.value.field) == ("winner_needs_sends", "steps[0].split.winner")


def test_a_winner_measures_opens_or_clicks_only() -> None:
    bad = {**SPLIT, "winner": {"by": "delivered", "after": "P1D"}}
    with pytest.raises(ValidationError):
        JourneyContent.model_validate(
            {"name": "J", "trigger": {"event": "go"}, "steps": [{"id": "ab", "split": bad}]}
        )
