"""The journeys pages against the real service: the list, a journey's diagram whose numbers are the API's
(`GET /v1/journeys/{key}`, per-way conversion included), the counts endpoint its script polls, the
pause/resume/stop buttons, who may see and press them, and the customer's page listing their runs."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from ccm.access.models import Role
from tests.ccm.conftest import Service
from tests.ccm.journeys.conftest import create, enrol, invoice, run
from tests.ccm.web.conftest import csrf_of, sign_in

MIXED: dict[str, Any] = {
    "key": "mixed",
    "name": "Mixed chase",
    "category": "transactional",
    "trigger": {"event": "invoice_issued"},
    "reentry": "every_time",
    "goal": {"event": "invoice_paid"},
    "steps": [
        {"id": "mail", "send": {"template": "invoice", "channel": "email"}},
        {"id": "check", "branch": {
            "if": {"attribute": {"name": "vip", "equals": True}}, "then": "ab", "else": "hold"}},
        {"id": "ab", "split": {"variants": [
            {"name": "a", "percent": 50, "next": "tag"}, {"name": "b", "percent": 50, "next": "done"}]}},
        {"id": "tag", "update": {"attribute": "chased", "value": True}, "next": "done"},
        {"id": "hold", "wait": {"duration": "P7D"}},
        {"id": "done", "exit": {}},
    ],
}  # fmt: skip
COUNTED = ("waiting", "passed", "exited", "goal", "failed")


def add_customer(service: Service, external_id: str, *, vip: bool, email: bool = True) -> None:
    attributes = {"vip": vip, "first_name": "Ada", "last_name": external_id}
    body: dict[str, Any] = {"timezone": "UTC", "attributes": attributes}
    if email:
        body["email"] = f"{external_id}@example.com"
    response = service.client.put(f"/v1/customers/{external_id}", json=body, headers=service.headers())
    assert response.status_code in (200, 201), response.text


@pytest.fixture
def mixed(service: Service) -> dict[str, Any]:
    """The journey, live, with six runs carried as far as they go: VIPs through the split, the others
    waiting in `hold`, one without an email address skipping `mail`."""
    for n in range(4):
        add_customer(service, f"vip-{n}", vip=True)
    add_customer(service, "plain-0", vip=False)
    add_customer(service, "plain-1", vip=False, email=False)
    create(service, MIXED)
    for external_id in ("vip-0", "vip-1", "vip-2", "vip-3", "plain-0", "plain-1"):
        enrol(service, "invoice_issued", invoice(), customer=external_id)
    run(service)
    return api_journey(service)


def api_journey(service: Service, key: str = "mixed") -> dict[str, Any]:
    response = service.client.get(f"/v1/journeys/{key}", headers=service.headers(Role.MARKETER))
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def page_counts(html: str) -> dict[tuple[str, str], set[str]]:
    """Every number the page shows, by (step, count or way): the diagram's and the table's."""
    shown: dict[tuple[str, str], set[str]] = {}
    for step, name, value in re.findall(r'data-step="([^"]+)" data-(?:count|way)="([^"]+)">([^<]*)<', html):
        shown.setdefault((step, name), set()).add(value)
    return shown


def press(client: httpx.Client, action: str, token: str) -> int:
    """Post a journey page's button as the browser would; the status answered."""
    return client.post(
        f"/ui/journeys/mixed/{action}", data={"csrf_token": token}, follow_redirects=False
    ).status_code


def marketer(service: Service) -> httpx.Client:
    assert sign_in(service.client, service.keys[Role.MARKETER]).status_code in (200, 303)
    return service.client


def test_the_api_counts_each_way_out_of_a_branch_and_a_split(service: Service, mixed: dict[str, Any]) -> None:
    steps = mixed["steps"]
    assert steps["mail"]["passed"] == 5 and steps["mail"]["skipped"] != {}
    assert steps["check"]["ways"] == {"then": 4, "else": 2}
    assert sum(steps["ab"]["ways"].values()) == 4 and set(steps["ab"]["ways"]) <= {"a", "b"}
    assert steps["tag"]["passed"] == steps["ab"]["ways"].get("a", 0)
    assert steps["hold"]["waiting"] == 2 and steps["hold"]["ways"] == {}
    assert steps["done"]["exited"] == 4


def test_the_journey_page_draws_every_step_with_the_api_counts(
    service: Service, mixed: dict[str, Any]
) -> None:
    client = marketer(service)
    listed = client.get("/ui/journeys")
    assert listed.status_code == 200
    row = listed.text.split('href="/ui/journeys/mixed"', 1)[1].split("</tr>", 1)[0]
    assert "Mixed chase" in row and "transactional" in row and "v1" in row and "active" in row
    assert re.search(r'data-field="running">2<', row)  # the two waiting in `hold`
    assert 'href="/ui/journeys"' in listed.text  # the navigation entry

    page = client.get("/ui/journeys/mixed")
    assert page.status_code == 200
    svg = page.text.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert re.findall(r'class="node node-(\w+)" data-node="([^"]+)"', svg) == [
        ("start", "_start"), ("goal", "_goal"), ("send", "mail"), ("branch", "check"),
        ("split", "ab"), ("update", "tag"), ("wait", "hold"), ("exit", "done"),
    ]  # fmt: skip
    shown = page_counts(page.text)
    for step, counts in mixed["steps"].items():
        for name in COUNTED:
            assert shown[(step, name)] == {str(counts[name])}, (step, name)
        assert shown[(step, "skipped")] == {str(sum(counts["skipped"].values()))}
        for way, taken in counts["ways"].items():
            assert shown[(step, way)] == {str(taken)}, (step, way)
    reason = next(iter(mixed["steps"]["mail"]["skipped"]))
    assert f"skipped: {reason} 1" in svg  # the box's tooltip
    skips = page.text.split('id="journey-skips"', 1)[1].split("</table>", 1)[0]
    row = f'<code>mail</code></td><td data-label="Reason"><code>{reason}</code></td><td data-label="Runs">1<'
    assert row in skips
    assert re.search(r'data-step="check" data-way="then">4<', svg)  # conversion on the edge's label
    assert re.search(r'data-step="check" data-share="then">\(67%\)<', svg)  # 4 of 6 took "then"
    assert re.search(r'data-step="check" data-share="else">\(33%\)<', svg)

    polled = client.get("/ui/journeys/mixed/counts")
    assert polled.json() == {"state": "active", "steps": mixed["steps"]}
    assert polled.headers["cache-control"] == "no-store"


def test_pause_resume_and_stop_buttons_use_the_service(service: Service, mixed: dict[str, Any]) -> None:
    client = marketer(service)
    token = csrf_of(client.get("/ui/journeys/mixed").text)
    assert client.post("/ui/journeys/mixed/pause", data={}).status_code == 403  # no CSRF token
    paused = client.post("/ui/journeys/mixed/pause", data={"csrf_token": token}, follow_redirects=False)
    assert paused.status_code == 303 and paused.headers["location"] == "/ui/journeys/mixed"
    assert api_journey(service)["state"] == "paused"
    page = client.get("/ui/journeys/mixed").text
    assert 'action="/ui/journeys/mixed/resume"' in page and 'action="/ui/journeys/mixed/pause"' not in page
    assert press(client, "pause", token) == 409  # stale: it is paused already
    assert press(client, "resume", token) == 303
    assert press(client, "stop", token) == 303
    stopped = api_journey(service)
    assert stopped["state"] == "stopped"
    assert stopped["steps"]["hold"]["exited"] == 2 and stopped["steps"]["hold"]["waiting"] == 0
    header = client.get("/ui/journeys/mixed").text.split("<main>", 1)[1].split('id="journey-flow"', 1)[0]
    assert "/ui/journeys/mixed/" not in header  # a stopped journey takes no button


def test_who_may_see_the_pages(service: Service, mixed: dict[str, Any]) -> None:
    client = service.client
    for path in ("/ui/journeys", "/ui/journeys/mixed", "/ui/journeys/mixed/counts"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/ui/login"), path
    assert sign_in(client, service.keys[Role.SENDER]).status_code in (200, 303)
    token = csrf_of(client.get("/ui/templates").text)
    for path in ("/ui/journeys", "/ui/journeys/mixed", "/ui/journeys/mixed/counts"):
        assert client.get(path).status_code == 403, path
    assert press(client, "pause", token) == 403
    assert 'href="/ui/journeys"' not in client.get("/ui/templates").text
    assert api_journey(service)["state"] == "active"

    client = marketer(service)
    missing = client.get("/ui/journeys/nowhere")
    assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]
    assert client.get("/ui/journeys/mixed?version=9").status_code == 404


def test_the_customer_page_lists_their_runs(service: Service, mixed: dict[str, Any]) -> None:
    enrol(service, "invoice_issued", invoice("2026-002"), customer="plain-0")  # a second run, not yet run
    api = service.client.get("/v1/customers/plain-0/journeys", headers=service.headers(Role.SENDER))
    assert api.status_code == 200, api.text
    runs = api.json()["runs"]
    assert [(r["journey"], r["version"], r["status"]) for r in runs] == [("mixed", 1, "active")] * 2
    assert runs[1]["step_id"] == "hold" and runs[1]["wait_until"] is not None  # the older one, waiting
    missing = service.client.get("/v1/customers/nobody/journeys", headers=service.headers())
    assert missing.status_code == 404

    marketer(service)
    page = service.client.get("/ui/customers/plain-0").text
    section = page.split('id="journeys"', 1)[1].split("</section>", 1)[0]
    rows = re.findall(r'<tr data-run="([^"]+)">(.*?)</tr>', section, flags=re.S)
    assert [run_id for run_id, _ in rows] == [r["id"] for r in runs]
    assert 'href="/ui/journeys/mixed?version=1">Mixed chase</a>' in rows[1][1]
    assert "<code>hold</code>" in rows[1][1]
    add_customer(service, "fresh", vip=False)
    fresh = service.client.get("/ui/customers/fresh").text
    assert "In no journey." in fresh.split('id="journeys"', 1)[1].split("</section>", 1)[0]
