"""Scripts run only on editor, chart, campaign and journey pages: every other page of the UI keeps
`script-src 'none'`.

The pages are found by walking the UI's router, so a page added later is checked without changing this file
(a new path parameter needs a sample value below, or the test says which one is missing).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from ccm.access.models import Role
from ccm.web.routes import router
from tests.ccm.conftest import Service
from tests.ccm.web.conftest import sign_in

EDITOR_PAGES = {"/ui/templates/{key}", "/ui/layouts/{key}", "/ui/partials/{key}"}
"""Pages that load our scripts (the live preview, the code editor) for those who may write templates."""
CHART_PAGES = {"/ui/analytics"}
"""Pages that draw `ui/_analytics_chart.html` with the bundled charts script (`chart_policy`)."""
CAMPAIGN_PAGES = {"/ui/campaigns/new", "/ui/campaigns/{campaign_id}"}
"""The new-campaign form (its live count), a campaign's page (its progress poller, its engagement chart)."""
CAMPAIGN = {"name": "CSP", "template": "welcome", "data": {"cta_url": "https://example.com/"}}
"""A campaign under the sample id, so its page is checked as a page, not as a 404."""
JOURNEY_PAGES = {"/ui/journeys/{key}"}
"""A journey's page: its counts poller."""
JOURNEY = {
    "key": "invoice",
    "name": "CSP",
    "category": "transactional",
    "trigger": {"event": "invoice_issued"},
    "steps": [{"id": "mail", "send": {"template": "invoice", "channel": "email"}}],
}
"""A journey under the sample key, so its page is checked as a page, not as a 404."""
LIBRARY = {
    "layouts": {"key": "invoice", "name": "Invoice", "email": "{% block content %}{% endblock %}"},
    "partials": {"key": "invoice", "name": "Invoice", "source": "ACME"},
}
"""A layout and a partial under the sample key, so their pages are checked as pages, not as 404s."""
SAMPLES = {
    "key": "invoice",
    "number": "1",
    "external_id": "c-1",
    "message_id": str(uuid.uuid4()),
    "index": "0",
    "campaign_id": "1",
    "action": "pause",
    "rest": "nowhere",
    "token": "0" * 32,
}


def get_pages(routes: list[Any]) -> Iterator[str]:
    """The path of every GET route, through included routers."""
    for route in routes:
        if hasattr(route, "original_router"):
            yield from get_pages(route.original_router.routes)
        elif "GET" in getattr(route, "methods", ()):
            yield route.path


def address(path: str) -> str:
    names = re.findall(r"{(\w+)(?::\w+)?}", path)
    missing = [name for name in names if name not in SAMPLES]
    assert not missing, f"{path}: add a sample value for {missing} to SAMPLES"
    return re.sub(r"{(\w+)(?::\w+)?}", lambda match: SAMPLES[match.group(1)], path)


def script_src(response: Any) -> str:
    policy = response.headers.get("content-security-policy", "")
    found = re.search(r"script-src ([^;]+)", policy)
    assert found, f"{response.url}: no script-src in {policy!r}"
    return found.group(1)


def test_every_page_but_the_editor_keeps_scripts_off(service: Service, customer: dict[str, Any]) -> None:
    client = service.client
    assert script_src(client.get("/ui/login")) == "'none'"
    sign_in(client, service.keys[Role.ADMIN])
    for kinds, body in LIBRARY.items():
        assert client.post(f"/v1/{kinds}", json=body, headers=service.headers()).status_code == 201
    created = client.post("/v1/campaigns", json=CAMPAIGN, headers=service.headers())
    assert created.status_code == 201 and str(created.json()["id"]) == SAMPLES["campaign_id"], created.text
    assert client.post("/v1/journeys", json=JOURNEY, headers=service.headers()).status_code == 201

    checked = []
    for path in sorted(set(get_pages(router.routes))):
        response = client.get(address(path), follow_redirects=False)
        if "text/html" not in response.headers.get("content-type", ""):
            continue  # a PDF, an attachment, a raw message, a redirect
        scripted = EDITOR_PAGES | CHART_PAGES | CAMPAIGN_PAGES | JOURNEY_PAGES
        expected = "'self'" if path in scripted else "'none'"
        assert script_src(response) == expected, path
        checked.append(path)

    assert {"/ui/templates", "/ui/templates/{key}", "/ui/outbox", "/ui/archive", "/ui/audit"} <= set(checked)
    assert {"/ui/layouts", "/ui/layouts/{key}", "/ui/partials", "/ui/partials/{key}"} <= set(checked)
    assert set(checked) >= CAMPAIGN_PAGES | JOURNEY_PAGES | {"/ui/journeys"}


@pytest.mark.parametrize(("role", "expected"), [(Role.MARKETER, "'self'"), (Role.SENDER, "'none'")])
def test_the_library_pages_run_scripts_only_for_writers(service: Service, role: Role, expected: str) -> None:
    for kinds, body in LIBRARY.items():
        assert service.client.post(f"/v1/{kinds}", json=body, headers=service.headers()).status_code == 201
    sign_in(service.client, service.keys[role])

    for kinds in LIBRARY:
        assert script_src(service.client.get(f"/ui/{kinds}/invoice")) == expected, kinds
        assert script_src(service.client.get(f"/ui/{kinds}")) == "'none'", kinds


@pytest.mark.parametrize(("role", "expected"), [(Role.MARKETER, "'self'"), (Role.SENDER, "'none'")])
def test_the_template_page_runs_scripts_only_for_writers(service: Service, role: Role, expected: str) -> None:
    sign_in(service.client, service.keys[role])

    page = service.client.get("/ui/templates/otp")

    assert script_src(page) == expected
    assert ('src="/static/live-preview.js"' in page.text) is (expected == "'self'")
    frames = re.search(r"frame-src ([^;]+)", page.headers["content-security-policy"])
    assert frames and (frames.group(1) == "'self' blob:") is (expected == "'self'")
