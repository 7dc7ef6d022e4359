"""Journeys are versioned and go live like templates: version 1 is a draft, a marketing journey needs a
second person's approval, a running enrolment stays on its version; pause, resume and stop."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from ccm.access.models import Role
from tests.ccm.conftest import Service
from tests.ccm.journeys.conftest import Clock, create, enrol, enrolment, messages, post_event, run

WELCOME_FLOW: dict[str, Any] = {
    "key": "welcome-flow",
    "name": "Welcome",
    "category": "marketing",
    "trigger": {"event": "signup"},
    "reentry": "once",
    "data": {"cta_url": "https://example.com/go"},
    "steps": [
        {"id": "hello", "send": {"template": "welcome", "channel": "email"}},
        {"id": "pause", "wait": {"duration": "P1D"}},
        {"id": "again", "send": {"template": "welcome", "channel": "email"}},
    ],
}
NUDGE: dict[str, Any] = {
    "key": "nudge",
    "name": "Nudge",
    "category": "transactional",
    "trigger": {"event": "nudge"},
    "reentry": "every_time",
    "steps": [
        {"id": "w", "wait": {"duration": "PT1H"}},
        {"id": "set", "update": {"attribute": "nudged", "value": 1}},
    ],
}


def post(service: Service, path: str, headers: dict[str, str], body: Any = None) -> Any:
    return service.client.post(f"/v1/journeys/{path}", json=body, headers=headers)


def test_a_marketing_journey_goes_live_only_through_four_eyes(service: Service) -> None:
    marketer = service.headers(Role.MARKETER)
    created = create(service, WELCOME_FLOW, publish=False)
    assert created["versions"][0]["status"] == "draft" and created["live_version"] is None
    response = post(service, "welcome-flow/versions/1/publish", marketer)
    assert (response.status_code, response.json()["error"]["code"]) == (409, "approval_required")
    assert post(service, "welcome-flow/versions/1/submit", marketer).status_code == 200
    response = post(service, "welcome-flow/versions/1/approve", marketer)
    assert (response.status_code, response.json()["error"]["code"]) == (403, "four_eyes")
    assert post(service, "welcome-flow/versions/1/approve", service.reviewer_headers()).status_code == 200
    published = post(service, "welcome-flow/versions/1/publish", marketer)
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"
    detail = service.client.get("/v1/journeys/welcome-flow", headers=marketer).json()
    assert detail["live_version"] == 1 and detail["definition"]["steps"][0]["id"] == "hello"


def test_a_sender_may_not_define_journeys(service: Service) -> None:
    response = service.client.post("/v1/journeys", json=NUDGE, headers=service.headers(Role.SENDER))
    assert response.status_code == 403


def test_a_draft_journey_enrols_nobody(service: Service, customer: dict[str, Any]) -> None:
    create(service, NUDGE, publish=False)
    response = post_event(service, "nudge")
    assert (response.status_code, response.json()) == (202, {"enrolments": []})


def test_running_enrolments_stay_on_their_version(
    service: Service, customer: dict[str, Any], clock: Clock
) -> None:
    marketer = service.headers(Role.MARKETER)
    create(service, NUDGE)
    old = enrol(service, "nudge")
    run(service)
    second = copy.deepcopy(NUDGE)
    del second["key"], second["category"]
    second["steps"][1] = {"id": "set", "update": {"attribute": "nudged_again", "value": 2}}
    response = post(service, "nudge/versions", marketer, second)
    assert (response.status_code, response.json()["number"], response.json()["status"]) == (201, 2, "draft")
    assert post(service, "nudge/versions/2/publish", marketer).status_code == 200
    new = enrol(service, "nudge")
    run(service)
    clock.advance(timedelta(hours=2))
    run(service)
    assert enrolment(service, old).version_id != enrolment(service, new).version_id
    customer_now = service.client.get("/v1/customers/c-1", headers=service.headers()).json()
    assert (customer_now["attributes"]["nudged"], customer_now["attributes"]["nudged_again"]) == (1, 2)
    versions = service.client.get("/v1/journeys/nudge", headers=marketer).json()["versions"]
    assert [v["status"] for v in versions] == ["superseded", "published"]
    response = post(service, "nudge/versions/1/publish", marketer)
    assert (response.status_code, response.json()["error"]["code"]) == (409, "version_superseded")


def test_pause_holds_runs_and_resume_goes_on(
    service: Service, customer: dict[str, Any], clock: Clock
) -> None:
    marketer = service.headers(Role.MARKETER)
    create(service, NUDGE)
    run_id = enrol(service, "nudge")
    run(service)
    assert post(service, "nudge/pause", marketer).json()["state"] == "paused"
    assert post_event(service, "nudge").json() == {"enrolments": []}
    clock.advance(timedelta(hours=2))
    assert run(service) == 0
    assert enrolment(service, run_id).step_id == "w"
    response = post(service, "nudge/pause", marketer)
    assert (response.status_code, response.json()["error"]["code"]) == (409, "invalid_state")
    assert post(service, "nudge/resume", marketer).json()["state"] == "active"
    run(service)
    assert enrolment(service, run_id).status == "completed"


def test_stop_exits_every_run(service: Service, customer: dict[str, Any], clock: Clock) -> None:
    create(service, NUDGE)
    run_id = enrol(service, "nudge")
    run(service)
    stopped = post(service, "nudge/stop", service.headers(Role.MARKETER)).json()
    assert stopped["state"] == "stopped"
    assert stopped["steps"]["w"] == {
        "waiting": 0,
        "passed": 0,
        "skipped": {},
        "exited": 1,
        "goal": 0,
        "failed": 0,
        "ways": {},
    }
    done = enrolment(service, run_id)
    assert (done.status, done.end_reason) == ("exited", "journey_stopped")
    clock.advance(timedelta(hours=2))
    assert run(service) == 0
    assert post_event(service, "nudge").json() == {"enrolments": []}
    assert messages(service) == []


def test_list_and_unknown_journeys(service: Service) -> None:
    create(service, NUDGE)
    listed = service.client.get("/v1/journeys", headers=service.headers(Role.MARKETER)).json()
    assert listed == {
        "journeys": [
            {
                "key": "nudge",
                "category": "transactional",
                "state": "active",
                "live_version": 1,
                "latest_version": 1,
            }
        ]
    }
    response = service.client.get("/v1/journeys/nope", headers=service.headers())
    assert (response.status_code, response.json()["error"]["code"]) == (404, "journey_not_found")
    response = service.client.post("/v1/journeys", json=NUDGE, headers=service.headers(Role.MARKETER))
    assert (response.status_code, response.json()["error"]["code"]) == (409, "journey_exists")
