"""Diffs between versions: a unified diff per part field and locale, and the ways to ask wrongly."""

from __future__ import annotations

from typing import Any

from ccm.access.models import Role
from ccm.registry.diff import unified_diff
from tests.ccm.conftest import Service

NOTE = {
    "key": "note",
    "name": "Note",
    "category": "transactional",
    "parts": {"sms": {"text": "Hello {{ name }}\nSee you soon"}},
    "sample_data": {"name": "Ada"},
    "schema": False,
}


def _diff(service: Service, old: Any, new: Any, key: str = "note") -> Any:
    params = {"from": old, "to": new}
    return service.client.get(
        f"/v1/templates/{key}/diff", params=params, headers=service.headers(Role.COMPLIANCE)
    )


def _changes(response: Any) -> dict[tuple[str, str | None], str]:
    assert response.status_code == 200, response.text
    return {(change["part"], change["locale"]): change["diff"] for change in response.json()["changes"]}


def test_changed_added_and_removed_fields_each_get_a_unified_diff(service: Service) -> None:
    headers = service.headers(Role.MARKETER)
    assert service.client.post("/v1/templates", json=NOTE, headers=headers).status_code == 201
    second = {
        "parts": {
            "sms": {"text": "Hello {{ name }}\nSee you tomorrow"},
            "email": {"subject": "Hi {{ name }}", "html": "<p>Hi</p>"},
        },
        "sample_data": {"name": "Grace"},
        "schema": False,
    }
    assert service.client.post("/v1/templates/note/versions", json=second, headers=headers).status_code == 201

    response = _diff(service, 1, 2)

    assert response.json()["from"] == 1 and response.json()["to"] == 2
    changes = _changes(response)
    assert changes[("sms.text", None)] == (
        "--- v1/sms.text\n+++ v2/sms.text\n@@ -1,2 +1,2 @@\n Hello {{ name }}\n"
        "-See you soon\n\\ No newline at end of file\n+See you tomorrow\n\\ No newline at end of file\n"
    )
    assert "+Hi {{ name }}" in changes[("email.subject", None)]
    assert "+<p>Hi</p>" in changes[("email.html", None)]
    assert '-  "name": "Ada"\n+  "name": "Grace"' in changes[("sample_data", None)]
    assert list(changes) == [
        ("sms.text", None),
        ("email.subject", None),
        ("email.html", None),
        ("email.attach_pdf", None),
        ("sample_data", None),
    ]
    assert changes[("email.attach_pdf", None)].endswith("@@ -0,0 +1 @@\n+false\n")  # flags as JSON

    backwards = _changes(_diff(service, 2, 1))
    assert "-Hi {{ name }}" in backwards[("email.subject", None)]
    assert _changes(_diff(service, 2, 2)) == {}


def test_locale_variants_are_compared_locale_by_locale(service: Service) -> None:
    headers = service.headers(Role.MARKETER)
    first = {**NOTE, "locales": {"it": {"sms": {"text": "Ciao {{ name }}"}}}}
    assert service.client.post("/v1/templates", json=first, headers=headers).status_code == 201
    second = {
        "parts": NOTE["parts"],
        "sample_data": NOTE["sample_data"],
        "schema": False,
        "locales": {"it": {"sms": {"text": "Salve {{ name }}"}}, "de": {"sms": {"text": "Hallo {{ name }}"}}},
    }
    assert service.client.post("/v1/templates/note/versions", json=second, headers=headers).status_code == 201

    changes = _changes(_diff(service, 1, 2))

    assert set(changes) == {("sms.text", "it"), ("sms.text", "de")}
    assert "-Ciao {{ name }}" in changes[("sms.text", "it")] and "+Salve" in changes[("sms.text", "it")]
    assert changes[("sms.text", "de")].startswith("--- v1/locales/de/sms.text\n+++ v2/locales/de/sms.text\n")


def test_unknown_versions_and_bad_queries_are_refused(service: Service) -> None:
    missing = _diff(service, 1, 9, key="otp")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "version_not_found"
    assert _diff(service, 1, 1, key="nope").status_code == 404
    for params in ({"from": 1}, {"to": 1}, {"from": "a", "to": 1}, {"from": 0, "to": 1}):
        response = service.client.get("/v1/templates/otp/diff", params=params, headers=service.headers())
        assert response.status_code == 422, params
    assert service.client.get("/v1/templates/otp/diff", params={"from": 1, "to": 1}).status_code == 401


def test_unified_diff_marks_a_last_line_without_newline() -> None:
    assert unified_diff("a\n", "a\n", "x", "y") == ""
    assert (
        unified_diff("a", "a\n", "x", "y")
        == "--- x\n+++ y\n@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+a\n"
    )


def test_the_workflow_is_documented_in_the_openapi(service: Service) -> None:
    spec = service.client.get("/openapi.json").json()
    paths, schemas = spec["paths"], spec["components"]["schemas"]
    diff = paths["/v1/templates/{key}/diff"]["get"]
    assert {p["name"] for p in diff["parameters"] if p["in"] == "query"} == {"from", "to"}
    assert set(schemas["VersionDiff"]["required"]) == {"from", "to", "changes"}
    assert set(schemas["DiffChange"]["properties"]) == {"part", "locale", "diff"}
    assert "201" in paths["/v1/templates/{key}/rollback"]["post"]["responses"]
    assert schemas["RollbackRequest"]["required"] == ["to"]
    for step in ("submit", "approve", "reject", "publish"):
        assert f"/v1/templates/{{key}}/versions/{{number}}/{step}" in paths
    assert schemas["RejectRequest"]["required"] == ["comment"]
    assert {"history", "created_by"} <= set(schemas["VersionDetail"]["properties"])
    assert set(schemas["Transition"]["properties"]) == {
        "from_status",
        "to_status",
        "identity",
        "comment",
        "at",
    }
