"""Layouts and partials: registry objects reviewed like marketing templates, pinned by template versions
when they are saved, and used by every render of those versions (preview, send, re-render)."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from pypdf import PdfReader
from sqlmodel import Session

from ccm.access.models import Role
from ccm.compliance.rerender import rerender
from ccm.compliance.search import find_entry
from tests.ccm.conftest import Service, publish_reviewed

BRAND_V1 = {
    "key": "brand",
    "name": "Brand",
    "email": "<html><body><h1>ACME</h1>{% block content %}{% endblock %}{% include 'legal' %}</body></html>",
    "pdf": "<html><body><h1>ACME letterhead</h1>{% block content %}{% endblock %}</body></html>",
}
BRAND_V2 = {
    "email": "<html><body><h1>ACME reloaded</h1>{% block content %}{% endblock %}</body></html>",
    "pdf": "<html><body><h1>ACME letterhead two</h1>{% block content %}{% endblock %}</body></html>",
}
LEGAL = {"key": "legal", "name": "Legal footer", "source": "<p>ACME Ltd thanks {{ customer.first_name }}</p>"}
NOTICE = {
    "key": "notice",
    "name": "Notice",
    "category": "transactional",
    "parts": {
        "email": {"subject": "Notice", "html": "<p>Dear {{ customer.first_name }}</p>"},
        "pdf": {"html": "<p>Notice for {{ customer.first_name }}</p>"},
        "sms": {"text": "Hi {{ customer.first_name }} {% include 'sign-off' %}"},
    },
    "sample_data": {"customer": {"first_name": "Ada"}},
    "layout": {"key": "brand", "version": 1},
}


def _post(service: Service, path: str, body: Any = None, role: Role = Role.MARKETER) -> Any:
    return service.client.post(path, json=body, headers=service.headers(role))


@pytest.fixture
def library(service: Service) -> Service:
    """Layout `brand` v1 (which includes `legal`) and partials `legal` and `sign-off`, all live."""
    for kind, body in (
        ("partial", LEGAL),
        ("partial", {"key": "sign-off", "name": "Sign-off", "source": "-- ACME"}),
    ):
        assert _post(service, f"/v1/{kind}s", body).status_code == 201
        publish_reviewed(service, body["key"], 1, kind=kind)
    created = _post(service, "/v1/layouts", BRAND_V1)
    assert created.status_code == 201, created.text
    publish_reviewed(service, "brand", 1, kind="layout")
    return service


def _preview(service: Service, version: int) -> dict[str, Any]:
    response = _post(service, "/v1/templates/notice/preview", {"version": version})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _pdf_text(preview: dict[str, Any]) -> str:
    data = base64.b64decode(preview["pdf"]["base64"])
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_a_layout_wraps_email_and_pdf_and_a_partial_is_included(library: Service) -> None:
    created = _post(library, "/v1/templates", NOTICE)
    assert created.status_code == 201, created.text
    latest = created.json()["latest"]
    assert latest["layout"] == {"key": "brand", "version": 1}
    assert latest["partials"] == {"legal": 1, "sign-off": 1}

    preview = _preview(library, 1)
    html = preview["email"]["html"]
    assert html.index("ACME</h1>") < html.index("Dear Ada") < html.index("ACME Ltd thanks Ada")
    assert "ACME letterhead" in _pdf_text(preview) and "Notice for Ada" in _pdf_text(preview)
    assert preview["sms"]["text"] == "Hi Ada -- ACME"


def test_pins_never_move_a_new_version_takes_the_new_layout(
    library: Service, customer: dict[str, Any]
) -> None:
    assert _post(library, "/v1/templates", NOTICE).status_code == 201
    publish_reviewed(library, "notice", 1)
    sent = library.send({"template": "notice", "customer_id": "c-1", "channels": ["email"]}, key="before")
    assert sent.status_code == 202, sent.text
    message_id = sent.json()["messages"][0]["id"]

    assert _post(library, "/v1/layouts/brand/versions", BRAND_V2).status_code == 201
    publish_reviewed(library, "brand", 2, kind="layout")
    assert _post(library, "/v1/partials/sign-off/versions", {"source": "-- ACME 2"}).status_code == 201
    publish_reviewed(library, "sign-off", 2, kind="partial")

    old = _preview(library, 1)
    assert "ACME</h1>" in old["email"]["html"] and "reloaded" not in old["email"]["html"]
    assert old["sms"]["text"] == "Hi Ada -- ACME" and "two" not in _pdf_text(old)
    assert library.work() >= 1  # the worker composes with the pins too, after the new versions went live
    with Session(library.runtime.engine) as session:
        entry = find_entry(session, message_id)
        assert entry is not None
        produced, result = rerender(session, library.runtime.archive, entry)
    assert result.matches and b"ACME</h1>" in produced and b"reloaded" not in produced

    body = {key: NOTICE[key] for key in ("parts", "sample_data")} | {"layout": {"key": "brand", "version": 2}}
    second = _post(library, "/v1/templates/notice/versions", body)
    assert second.status_code == 201, second.text
    assert second.json()["partials"] == {"sign-off": 2}  # layout 2 no longer includes `legal`
    new = _preview(library, 2)
    assert "ACME reloaded" in new["email"]["html"] and "ACME Ltd" not in new["email"]["html"]
    assert new["sms"]["text"] == "Hi Ada -- ACME 2" and "letterhead two" in _pdf_text(new)
    diff = library.client.get("/v1/templates/notice/diff?from=1&to=2", headers=library.headers()).json()
    assert {change["part"] for change in diff["changes"]} >= {"layout", "partials"}


@pytest.mark.parametrize(
    ("layout", "sms", "code", "named"),
    [
        ({"key": "nope", "version": 1}, "Hi", "unknown_layout", "nope"),
        ({"key": "brand", "version": 2}, "Hi", "layout_not_published", "brand"),
        (None, "Hi {% include 'nope' %}", "unknown_partial", "nope"),
        (None, "Hi {% include 'draft-only' %}", "partial_not_published", "draft-only"),
        (None, "Hi {% include '/etc/passwd' %}", "unknown_partial", "/etc/passwd"),
    ],
)
def test_unknown_or_unpublished_layouts_and_partials_are_refused(
    library: Service, layout: dict[str, Any] | None, sms: str, code: str, named: str
) -> None:
    assert _post(library, "/v1/layouts/brand/versions", BRAND_V2).status_code == 201  # a draft
    assert (
        _post(library, "/v1/partials", {"key": "draft-only", "name": "Draft", "source": "x"}).status_code
        == 201
    )
    body = {
        "key": "t",
        "name": "T",
        "category": "transactional",
        "parts": {"sms": {"text": sms}},
        "layout": layout,
    }
    refused = _post(library, "/v1/templates", body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == code and named in refused.json()["error"]["message"]


def test_an_include_computed_at_render_time_is_refused(library: Service) -> None:
    parts = {"sms": {"text": "Hi {% include customer.first_name %}"}}
    refused = _post(
        library, "/v1/templates", {"key": "t", "name": "T", "category": "transactional", "parts": parts}
    )
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "parts.sms.text"


def test_four_eyes_applies_to_layouts(service: Service) -> None:
    assert _post(service, "/v1/layouts", BRAND_V1 | {"email": None}).status_code == 201
    path = "/v1/layouts/brand/versions/1"
    refused = _post(service, f"{path}/publish")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "approval_required"
    assert _post(service, f"{path}/submit", {"comment": "new letterhead"}).status_code == 200
    own = _post(service, f"{path}/approve")
    assert own.status_code == 403 and own.json()["error"]["code"] == "four_eyes"
    assert service.client.post(f"{path}/approve", headers=service.reviewer_headers()).status_code == 200
    published = _post(service, f"{path}/publish")
    assert published.status_code == 200 and published.json()["status"] == "published"
    layout = service.client.get("/v1/layouts/brand", headers=service.headers()).json()
    assert layout["published_version"] == 1
    assert [step["to_status"] for step in layout["versions"][0]["history"]] == [
        "draft",
        "submitted",
        "approved",
        "published",
    ]


def test_a_layout_needs_its_content_block(service: Service) -> None:
    refused = _post(service, "/v1/layouts", {"key": "bare", "name": "Bare", "email": "<html></html>"})
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "email"
    empty = _post(service, "/v1/layouts", {"key": "bare", "name": "Bare"})
    assert empty.status_code == 422


def test_the_unsubscribe_link_may_sit_in_the_layout(service: Service) -> None:
    footer = '{% block content %}{% endblock %}<a href="{{ unsubscribe_url }}">Unsubscribe</a>'
    assert _post(service, "/v1/layouts", {"key": "news", "name": "News", "email": footer}).status_code == 201
    publish_reviewed(service, "news", 1, kind="layout")
    rules = {}
    for key, layout in (("wrapped", {"key": "news", "version": 1}), ("bare", None)):
        parts = {"email": {"subject": "Offer", "html": "<p>10% off</p>"}}
        body = {"key": key, "name": key, "category": "marketing", "parts": parts, "layout": layout}
        assert _post(service, "/v1/templates", body).status_code == 201
        issues = _post(service, f"/v1/templates/{key}/lint").json()["issues"]
        rules[key] = {issue["rule"] for issue in issues}
    assert "unsubscribe_link" in rules["bare"] and "unsubscribe_link" not in rules["wrapped"]


def test_the_proposed_schema_covers_the_variables_of_included_partials(
    library: Service, customer: dict[str, Any]
) -> None:
    body = {"key": "order-sign-off", "name": "Order sign-off", "source": "Order {{ order.number }} -- ACME"}
    assert _post(library, "/v1/partials", body).status_code == 201
    publish_reviewed(library, "order-sign-off", 1, kind="partial")
    template = {
        **NOTICE,
        "key": "order-notice",
        "parts": {"sms": {"text": "Hi {{ customer.first_name }} {% include 'order-sign-off' %}"}},
        "sample_data": {"customer": {"first_name": "Ada"}, "order": {"number": "A-1"}},
    }
    created = _post(library, "/v1/templates", template)
    assert created.status_code == 201, created.text

    schema = created.json()["latest"]["schema"]
    assert schema["required"] == ["order"]
    assert schema["properties"]["order"]["required"] == ["number"]
    assert _post(library, "/v1/templates/order-notice/versions/1/publish").status_code == 200
    send = {"template": "order-notice", "customer_id": "c-1", "data": {"order": {"number": {"a": 1}}}}
    sent = _post(library, "/v1/messages", send, role=Role.ADMIN)
    assert sent.status_code == 422, sent.text
    assert sent.json()["error"]["code"] == "data_invalid"
