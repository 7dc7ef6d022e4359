"""Layouts' and partials' history: diffs between versions (the templates' shape), rollback to an older
version as a new draft, and the compile check a submission makes again."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, select

from ccm.access.models import Role
from ccm.registry.models import LibraryItem, LibraryVersion
from tests.ccm.conftest import Service, publish_reviewed

FOOTER = {"key": "footer", "name": "Footer", "source": "<p>ACME Ltd</p>\n<p>Thanks {{ name }}</p>\n"}
FOOTER_V2 = {"source": "<p>ACME Ltd</p>\n<p>Cheers {{ name }}</p>\n"}
SHELL = {"key": "shell", "name": "Shell", "email": "<main>{% block content %}{% endblock %}</main>\n"}


def _post(service: Service, path: str, body: Any = None, role: Role = Role.MARKETER) -> Any:
    return service.client.post(path, json=body, headers=service.headers(role))


def _get(service: Service, path: str, role: Role = Role.COMPLIANCE, **params: Any) -> Any:
    return service.client.get(path, params=params, headers=service.headers(role))


@pytest.fixture
def footer(service: Service) -> Service:
    """Partial `footer`: v1 live, v2 (one changed line) a draft."""
    assert _post(service, "/v1/partials", FOOTER).status_code == 201
    publish_reviewed(service, "footer", 1, kind="partial")
    assert _post(service, "/v1/partials/footer/versions", FOOTER_V2).status_code == 201
    return service


def test_a_partial_diff_has_the_shape_of_a_template_diff(footer: Service) -> None:
    response = _get(footer, "/v1/partials/footer/diff", **{"from": 1, "to": 2})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["from"] == 1 and body["to"] == 2
    assert [(c["part"], c["locale"]) for c in body["changes"]] == [("source", None)]
    diff = body["changes"][0]["diff"]
    assert diff.startswith("--- v1/source\n+++ v2/source\n")
    assert "-<p>Thanks {{ name }}</p>\n+<p>Cheers {{ name }}</p>\n" in diff and " <p>ACME Ltd</p>\n" in diff


def test_a_layout_diff_has_one_change_per_source_that_changed(service: Service) -> None:
    assert _post(service, "/v1/layouts", SHELL).status_code == 201
    second = {"email": SHELL["email"], "pdf": "<body>{% block content %}{% endblock %}</body>"}
    assert _post(service, "/v1/layouts/shell/versions", second).status_code == 201

    changes = _get(service, "/v1/layouts/shell/diff", **{"from": 1, "to": 2}).json()["changes"]
    same = _get(service, "/v1/layouts/shell/diff", **{"from": 2, "to": 2}).json()["changes"]

    assert [c["part"] for c in changes] == ["pdf"]
    assert "+<body>{% block content %}{% endblock %}</body>" in changes[0]["diff"]
    assert same == []


@pytest.mark.parametrize(
    ("path", "params", "status", "named"),
    [
        ("/v1/partials/footer/diff", {"from": 1, "to": 9}, 404, "no version 9"),
        ("/v1/partials/nope/diff", {"from": 1, "to": 2}, 404, "partial 'nope' not found"),
        ("/v1/layouts/footer/diff", {"from": 1, "to": 2}, 404, "layout 'footer' not found"),
        ("/v1/partials/footer/diff", {"to": 2}, 422, "from"),
        ("/v1/partials/footer/diff", {"from": 0, "to": 2}, 422, "from"),
    ],
)
def test_a_diff_asked_wrongly_says_what_is_wrong(
    footer: Service, path: str, params: dict[str, int], status: int, named: str
) -> None:
    response = _get(footer, path, **params)

    assert response.status_code == status, response.text
    assert named in response.text


def test_a_rollback_is_a_new_draft_that_goes_live_reviewed(footer: Service) -> None:
    publish_reviewed(footer, "footer", 2, kind="partial")

    rolled = _post(footer, "/v1/partials/footer/rollback", {"to": 1})

    assert rolled.status_code == 201, rolled.text
    draft = rolled.json()
    assert draft["number"] == 3 and draft["status"] == "draft"
    assert draft["content"] == {"source": FOOTER["source"]}
    assert draft["created_by"] == _get(footer, "/v1/partials/footer/versions/2").json()["created_by"]
    assert draft["history"][0]["comment"] == "rollback to version 1"
    refused = _post(footer, "/v1/partials/footer/versions/3/publish")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "approval_required"
    publish_reviewed(footer, "footer", 3, kind="partial")
    item = _get(footer, "/v1/partials/footer").json()
    assert item["published_version"] == 3
    assert [v["status"] for v in item["versions"]] == ["superseded", "superseded", "published"]
    assert _get(footer, "/v1/partials/footer/diff", **{"from": 1, "to": 3}).json()["changes"] == []


def test_a_rolled_back_partial_reaches_templates_saved_after_it_goes_live(footer: Service) -> None:
    publish_reviewed(footer, "footer", 2, kind="partial")
    assert _post(footer, "/v1/partials/footer/rollback", {"to": 1}).status_code == 201
    publish_reviewed(footer, "footer", 3, kind="partial")
    parts = {"sms": {"text": "Hi {% include 'footer' %}"}}
    body = {
        "key": "t",
        "name": "T",
        "category": "transactional",
        "parts": parts,
        "sample_data": {"name": "Ada"},
    }

    created = _post(footer, "/v1/templates", body)
    preview = _post(footer, "/v1/templates/t/preview", {"version": 1})

    assert created.status_code == 201 and created.json()["latest"]["partials"] == {"footer": 3}
    assert "Thanks Ada" in preview.json()["sms"]["text"]


@pytest.mark.parametrize(
    ("role", "to", "status", "code"),
    [(Role.SENDER, 1, 403, None), (Role.MARKETER, 7, 404, "version_not_found")],
)
def test_a_rollback_needs_a_writer_and_a_version(
    footer: Service, role: Role, to: int, status: int, code: str | None
) -> None:
    response = _post(footer, "/v1/partials/footer/rollback", {"to": to}, role=role)

    assert response.status_code == status, response.text
    if code:
        assert response.json()["error"]["code"] == code
    assert len(_get(footer, "/v1/partials/footer").json()["versions"]) == 2


@pytest.mark.parametrize(
    ("kind", "body", "field", "named"),
    [
        (
            "partial",
            {"key": "p", "name": "P", "source": "{{ name | shout }}"},
            "source",
            "No filter named 'shout'",
        ),
        ("partial", {"key": "p", "name": "P", "source": "{% if name %}"}, "source", "syntax error on line 1"),
        ("layout", {"key": "l", "name": "L", "pdf": "<body></body>"}, "pdf", "{% block content %}"),
    ],
)
def test_saving_a_source_that_does_not_compile_is_refused(
    service: Service, kind: str, body: dict[str, str], field: str, named: str
) -> None:
    response = _post(service, f"/v1/{kind}s", body)

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "template_invalid" and error["field"] == field and named in error["message"]


@pytest.mark.parametrize(
    ("kind", "content", "named"),
    [
        (
            "partial",
            {"source": "{{ name | shout }}"},
            "source: syntax error on line 1: No filter named 'shout'",
        ),
        ("layout", {"email": "<main></main>", "pdf": None}, "email: a layout needs {% block content %}"),
    ],
)
def test_submitting_checks_the_sources_compile_again(
    service: Service, kind: str, content: dict[str, Any], named: str
) -> None:
    """A version saved before today's sandbox rules (its content written as it was then) is refused at
    submission, so it never reaches a review, let alone a template."""
    body = SHELL if kind == "layout" else FOOTER
    assert _post(service, f"/v1/{kind}s", body).status_code == 201
    _store_content(service, body["key"], content)

    refused = _post(service, f"/v1/{kind}s/{body['key']}/versions/1/submit")

    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "template_invalid" and named in error["message"]
    assert _get(service, f"/v1/{kind}s/{body['key']}/versions/1").json()["status"] == "draft"


def _store_content(service: Service, key: str, content: dict[str, Any]) -> None:
    with Session(service.runtime.engine) as session:
        item = session.exec(select(LibraryItem).where(LibraryItem.key == key)).one()
        version = session.exec(select(LibraryVersion).where(LibraryVersion.item_id == item.id)).one()
        version.content = content
        session.add(version)
        session.commit()
