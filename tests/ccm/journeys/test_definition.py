"""A definition is checked whole before it is saved: each part's shape, references between steps,
templates and endpoints that exist, no cycle, split percentages totalling 100."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from ccm.access.models import Role
from ccm.errors import Unprocessable
from ccm.journeys.checks import check_definition, successors
from ccm.journeys.definition import JourneyContent
from tests.ccm.conftest import Service
from tests.ccm.journeys.conftest import INVOICE_CHASE


def content(steps: list[dict[str, Any]], **extra: Any) -> JourneyContent:
    return JourneyContent.model_validate({"name": "J", "trigger": {"event": "e"}, "steps": steps, **extra})


def refusal(steps: list[dict[str, Any]]) -> Unprocessable:
    with pytest.raises(Unprocessable) as raised:
        check_definition(content(steps))
    return raised.value


def test_the_invoice_chase_is_accepted() -> None:
    chase = content(INVOICE_CHASE["steps"], goal=INVOICE_CHASE["goal"], reentry="every_time")
    check_definition(chase)
    assert [step.kind for step in chase.steps] == ["send", "wait", "branch", "send", "exit"]
    assert successors(chase.steps, 2) == ["done", "sms"]
    assert successors(chase.steps, 4) == []


def test_a_branch_to_an_unknown_step_names_it() -> None:
    error = refusal([{"id": "a", "branch": {"if": {"opened": "a"}, "then": "a", "else": "nowhere"}}])
    assert (error.code, error.field) == ("unknown_step", "steps[0].branch.else")


def test_a_condition_on_an_unknown_step_names_it() -> None:
    error = refusal(
        [{"id": "x", "exit": {}}, {"id": "b", "branch": {"if": {"clicked": "m"}, "then": "x", "else": "x"}}]
    )
    assert (error.code, error.field) == ("unknown_step", "steps[1].branch.if.clicked")


def test_steps_that_loop_are_a_cycle() -> None:
    steps = [
        {"id": "a", "wait": {"duration": "P1D"}},
        {"id": "b", "branch": {"if": {"event_received": "paid"}, "then": "c", "else": "a"}},
        {"id": "c", "exit": {}},
    ]
    error = refusal(steps)
    assert error.code == "journey_cycle"
    assert "a → b → a" in error.message


def test_a_next_that_points_back_is_a_cycle() -> None:
    error = refusal(
        [
            {"id": "a", "update": {"attribute": "x", "value": 1}},
            {"id": "b", "wait": {"duration": "P1D"}, "next": "a"},
        ]
    )
    assert error.code == "journey_cycle"


def test_split_percentages_must_total_100() -> None:
    split = {
        "variants": [{"name": "a", "percent": 50, "next": "x"}, {"name": "b", "percent": 40, "next": "x"}]
    }
    error = refusal([{"id": "s", "split": split}, {"id": "x", "exit": {}}])
    assert (error.code, error.field) == ("split_not_100", "steps[0].split.variants")


def test_duplicate_step_ids_are_refused() -> None:
    error = refusal([{"id": "a", "exit": {}}, {"id": "a", "exit": {}}])
    assert (error.code, error.field) == ("duplicate_step", "steps[1].id")


@pytest.mark.parametrize(
    "step",
    [
        {"id": "a"},
        {"id": "a", "exit": {}, "wait": {"duration": "P1D"}},
        {"id": "a", "send": {"template": "invoice"}},
        {"id": "a", "send": {"template": "invoice", "channel": "email", "fallback": ["sms"]}},
        {"id": "a", "send": {"template": "invoice", "channel": "fax"}},
        {"id": "a", "wait": {"duration": "48 hours"}},
        {"id": "a", "wait": {"duration": "P"}},
        {"id": "a", "wait": {"event": "paid"}},
        {"id": "a", "wait": {"duration": "P1D", "timeout": "P2D"}},
        {"id": "a", "wait": {"until": "25:00"}},
        {"id": "a", "branch": {"if": {}, "then": "a", "else": "a"}},
        {"id": "a", "branch": {"if": {"opened": "a", "clicked": "a"}, "then": "a", "else": "a"}},
        {"id": "a", "branch": {"if": {"attribute": {"name": "x"}}, "then": "a", "else": "a"}},
        {"id": "a", "exit": {}, "next": "a"},
        {"id": "a", "teleport": {}},
    ],
)
def test_malformed_steps_are_refused(step: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        content([step])


def test_api_names_the_unknown_template(service: Service) -> None:
    definition = copy.deepcopy(INVOICE_CHASE)
    definition["steps"][3]["send"]["template"] = "no-such-template"
    response = service.client.post("/v1/journeys", json=definition, headers=service.headers(Role.MARKETER))
    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("unknown_template", "steps[3].send.template")


def test_api_refuses_a_cycle_and_a_bad_split(service: Service) -> None:
    definition = copy.deepcopy(INVOICE_CHASE)
    definition["steps"][3] = {"id": "sms", "wait": {"duration": "PT1H"}, "next": "wait"}
    response = service.client.post("/v1/journeys", json=definition, headers=service.headers(Role.MARKETER))
    assert (response.status_code, response.json()["error"]["code"]) == (422, "journey_cycle")
    split = {
        "variants": [
            {"name": "a", "percent": 60, "next": "done"},
            {"name": "b", "percent": 60, "next": "done"},
        ]
    }
    definition["steps"][3] = {"id": "sms", "split": split}
    response = service.client.post("/v1/journeys", json=definition, headers=service.headers(Role.MARKETER))
    assert (response.status_code, response.json()["error"]["code"]) == (422, "split_not_100")
    definition["steps"][3] = {"id": "sms", "webhook": {"endpoint": 999}}
    response = service.client.post("/v1/journeys", json=definition, headers=service.headers(Role.MARKETER))
    error = response.json()["error"]
    assert (response.status_code, error["code"], error["field"]) == (
        422,
        "unknown_endpoint",
        "steps[3].webhook.endpoint",
    )
