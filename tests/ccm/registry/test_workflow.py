"""Four-eyes approval over HTTP: draft -> submitted -> approved or rejected -> published, one live version
per template, and the history of every move."""

from __future__ import annotations

from typing import Any, get_args

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from ccm.access.models import ApiKey, Role
from ccm.access.service import create_api_key
from ccm.database import session_scope
from ccm.registry import workflow
from ccm.registry.models import Category, Template, TemplateVersion
from ccm.settings import Settings
from tests.ccm.conftest import Service, ServiceFactory, publish_reviewed

PROMO = {
    "key": "promo",
    "name": "Promotion",
    "category": "marketing",
    "parts": {"sms": {"text": "Hi {{ customer.first_name }}, 10% off"}},
    "sample_data": {"customer": {"first_name": "Ada"}},
}


def _post(service: Service, path: str, headers: dict[str, str], body: Any = None) -> Any:
    return service.client.post(f"/v1/templates/promo{path}", json=body, headers=headers)


@pytest.fixture
def promo(service: Service) -> Service:
    """A marketing template whose version 1 the marketer key wrote."""
    created = service.client.post("/v1/templates", json=PROMO, headers=service.headers(Role.MARKETER))
    assert created.status_code == 201, created.text
    return service


def test_a_marketing_version_goes_live_only_once_someone_else_approved_it(promo: Service) -> None:
    marketer, admin = promo.headers(Role.MARKETER), promo.headers(Role.ADMIN)

    refused = _post(promo, "/versions/1/publish", marketer)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "approval_required"
    submitted = _post(promo, "/versions/1/submit", marketer, {"comment": "spring offer"})
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    refused = _post(promo, "/versions/1/publish", admin)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "approval_required"

    approved = _post(promo, "/versions/1/approve", admin, {"comment": "looks good"})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    published = _post(promo, "/versions/1/publish", marketer)
    assert published.status_code == 200 and published.json()["status"] == "published"

    version = promo.client.get("/v1/templates/promo/versions/1", headers=marketer).json()
    marketer_id, admin_id = _identity(promo, Role.MARKETER), _identity(promo, Role.ADMIN)
    assert version["created_by"] == marketer_id
    assert [
        (step["from_status"], step["to_status"], step["identity"], step["comment"])
        for step in version["history"]
    ] == [
        (None, "draft", marketer_id, ""),
        ("draft", "submitted", marketer_id, "spring offer"),
        ("submitted", "approved", admin_id, "looks good"),
        ("approved", "published", marketer_id, ""),
    ]
    assert all(step["at"] for step in version["history"])
    assert promo.client.get("/v1/templates/promo", headers=marketer).json()["published_version"] == 1


def _identity(service: Service, role: Role) -> str:
    """The identity of the role's key, as versions record it: `key:<id>` (the keys have no owner)."""
    with session_scope(service.runtime.engine) as session:
        key = session.exec(select(ApiKey).where(ApiKey.name == f"test {role}")).one()
        return f"key:{key.id}"


def test_the_author_and_the_submitter_may_not_approve_whatever_their_role(promo: Service) -> None:
    admin = promo.headers(Role.ADMIN)
    created = _post(promo, "/versions", admin, {"parts": {"sms": {"text": "v2"}}})
    assert created.status_code == 201 and created.json()["number"] == 2

    assert _post(promo, "/versions/2/submit", promo.headers(Role.MARKETER)).status_code == 200
    for reviewer, who in ((admin, "wrote"), (promo.headers(Role.MARKETER), "submitted")):
        for verdict, body in (("approve", None), ("reject", {"comment": "no"})):
            refused = _post(promo, f"/versions/2/{verdict}", reviewer, body)
            assert refused.status_code == 403, refused.text
            error = refused.json()["error"]
            assert error["code"] == "four_eyes" and f"you {who} version 2" in error["message"]
    assert promo.client.get("/v1/templates/promo/versions/2", headers=admin).json()["status"] == "submitted"

    approved = _post(promo, "/versions/2/approve", promo.reviewer_headers())
    assert approved.status_code == 200 and approved.json()["status"] == "approved"


def test_reviewing_needs_a_marketer_or_admin(promo: Service) -> None:
    assert _post(promo, "/versions/1/submit", promo.headers(Role.MARKETER)).status_code == 200
    for role in (Role.SENDER, Role.COMPLIANCE):
        refused = _post(promo, "/versions/1/approve", promo.headers(role))
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    with session_scope(promo.runtime.engine) as session:
        _, second_marketer = create_api_key(session, role=Role.MARKETER, name="another marketer")
    approved = _post(promo, "/versions/1/approve", {"Authorization": f"Bearer {second_marketer}"})
    assert approved.status_code == 200


def test_a_rejected_version_keeps_its_comment_and_is_fixed_by_a_new_version(promo: Service) -> None:
    marketer = promo.headers(Role.MARKETER)
    assert _post(promo, "/versions/1/submit", marketer).status_code == 200
    no_reason = _post(promo, "/versions/1/reject", promo.reviewer_headers(), {"comment": ""})
    assert no_reason.status_code == 422
    rejected = _post(
        promo, "/versions/1/reject", promo.reviewer_headers(), {"comment": "add the unsubscribe link"}
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert rejected.json()["history"][-1]["comment"] == "add the unsubscribe link"

    for step, body in (("submit", None), ("approve", None), ("publish", None)):
        refused = _post(promo, f"/versions/1/{step}", promo.reviewer_headers(), body)
        assert refused.status_code == 409, refused.text
        error = refused.json()["error"]
        assert (
            error["code"] == "invalid_transition"
            and "save the corrections as a new version" in error["message"]
        )

    fixed = _post(promo, "/versions", marketer, {"parts": {"sms": {"text": "Hi, 10% off. STOP to 4242"}}})
    assert fixed.status_code == 201 and fixed.json()["status"] == "draft"
    assert publish_reviewed(promo, "promo", 2)["status"] == "published"


def test_transitions_the_state_does_not_allow_are_409(promo: Service) -> None:
    marketer, reviewer = promo.headers(Role.MARKETER), promo.reviewer_headers()
    for step in ("approve", "reject"):
        body = {"comment": "why"} if step == "reject" else None
        refused = _post(promo, f"/versions/1/{step}", reviewer, body)
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "invalid_transition"
    assert _post(promo, "/versions/1/submit", marketer).status_code == 200
    again = _post(promo, "/versions/1/submit", marketer)
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_transition"
    assert _post(promo, "/versions/1/approve", reviewer).status_code == 200
    twice = _post(promo, "/versions/1/approve", reviewer)
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "invalid_transition"
    assert _post(promo, "/versions/9/submit", marketer).status_code == 404
    assert promo.client.post("/v1/templates/nope/versions/1/submit", headers=marketer).status_code == 404
    extra = _post(promo, "/versions/1/approve", reviewer, {"comment": "x", "force": True})
    assert extra.status_code == 422


def test_transactional_versions_publish_from_draft_and_only_one_is_live(service: Service) -> None:
    headers = service.headers(Role.MARKETER)
    for text in ("Your code is {{ code }}", "Code: {{ code }}"):
        body = {"parts": {"sms": {"text": text}}, "sample_data": {"code": "1"}}
        assert (
            service.client.post("/v1/templates/otp/versions", json=body, headers=headers).status_code == 201
        )
    assert service.client.post("/v1/templates/otp/versions/2/publish", headers=headers).status_code == 200
    assert service.client.post("/v1/templates/otp/versions/3/submit", headers=headers).status_code == 200
    awaiting = service.client.post("/v1/templates/otp/versions/3/publish", headers=headers)
    assert awaiting.status_code == 409 and awaiting.json()["error"]["code"] == "invalid_transition"
    assert "awaits review" in awaiting.json()["error"]["message"]

    detail = service.client.get("/v1/templates/otp", headers=headers).json()
    assert [v["status"] for v in detail["versions"]] == ["superseded", "published", "submitted"]
    one = service.client.get("/v1/templates/otp/versions/1", headers=headers).json()
    assert (
        one["history"][-1]["from_status"] == "published" and one["history"][-1]["to_status"] == "superseded"
    )
    assert one["history"][-1]["comment"] == "version 2 was published"


def test_approval_categories_are_a_setting(service_factory: ServiceFactory) -> None:
    assert Settings.model_fields["approval_categories"].default == ["marketing"]
    open_service = service_factory(approval_categories=[])
    headers = open_service.headers(Role.MARKETER)
    assert open_service.client.post("/v1/templates", json=PROMO, headers=headers).status_code == 201
    assert (
        open_service.client.post("/v1/templates/promo/versions/1/publish", headers=headers).status_code == 200
    )

    strict = service_factory(approval_categories=["transactional", "marketing"])
    draft = {"parts": {"sms": {"text": "x"}}}
    assert (
        strict.client.post("/v1/templates/otp/versions", json=draft, headers=strict.headers()).status_code
        == 201
    )
    refused = strict.client.post(
        "/v1/templates/otp/versions/2/publish", headers=strict.headers(Role.MARKETER)
    )
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "approval_required"


def test_approval_categories_name_the_registry_categories() -> None:
    (allowed,) = get_args(Settings.model_fields["approval_categories"].annotation)
    assert set(get_args(allowed)) == {category.value for category in Category}
    with pytest.raises(ValueError, match="marketting"):
        Settings(_env_file=None, approval_categories=["marketting"])  # type: ignore[call-arg]


def test_the_starter_templates_are_live_and_published_by_the_system(service: Service) -> None:
    with session_scope(service.runtime.engine) as session:
        versions = session.exec(select(TemplateVersion)).all()
        assert versions and {(v.status, v.created_by) for v in versions} == {("published", "system")}
    welcome = service.client.get("/v1/templates/welcome/versions/1", headers=service.headers()).json()
    assert [(s["to_status"], s["identity"]) for s in welcome["history"]] == [
        ("draft", "system"),
        ("published", "system"),
    ]


def test_no_database_lock_is_held_while_a_submit_lints(
    promo: Service, impatient: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lint renders the author's template (up to the CPU limit); meanwhile other writers go on at once."""
    real = workflow.require_no_lint_errors

    def lint_while_someone_writes(*args: Any) -> Any:
        with session_scope(impatient) as session:  # "database is locked" / lock timeout after 1 s
            template = session.exec(select(Template).where(Template.key == "promo").with_for_update()).one()
            template.description = "edited while the submit linted"
        return real(*args)

    monkeypatch.setattr(workflow, "require_no_lint_errors", lint_while_someone_writes)
    submitted = _post(promo, "/versions/1/submit", promo.headers(Role.MARKETER), {"comment": "please"})
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "submitted"
    detail = promo.client.get("/v1/templates/promo", headers=promo.headers())
    assert detail.json()["description"] == "edited while the submit linted"
