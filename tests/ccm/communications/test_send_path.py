"""The send path near the floor: where a version's data contract covers what its parts read, a send is
checked by validation alone (no render at the API) and accepted in one short transaction of few statements;
elsewhere the render check in the pool stays."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from ccm.access.identity import SYSTEM_IDENTITY
from ccm.access.models import Role
from ccm.access.service import authenticate, revoke_api_key
from ccm.database import session_scope
from ccm.personalisation import render
from ccm.registry import workflow
from tests.ccm.conftest import INVOICE, Service, ServiceFactory

STATEMENTS_PER_SEND = 8
"""Measured: API key, idempotency replay, template with its live version, customer, suppressions, then the
message, its `queued` event and the idempotency record (the path before this had 11 and two commits)."""
BURN = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}x"


@pytest.fixture
def render_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every call the send path makes to the render pool, by lane."""
    calls: list[str] = []
    real = render.bounded  # type: ignore[attr-defined]

    def counted(settings: Any, lane: str, *args: Any) -> Any:
        calls.append(lane)
        return real(settings, lane, *args)

    monkeypatch.setattr(render, "bounded", counted)
    return calls


def publish(service: Service, key: str, parts: dict[str, Any], schema: dict[str, Any] | bool) -> None:
    body = {"key": key, "name": key, "category": "transactional", "parts": parts, "schema": schema}
    response = service.client.post("/v1/templates", json=body, headers=service.headers(Role.MARKETER))
    assert response.status_code == 201, response.text
    with session_scope(service.runtime.engine) as session:  # past the publish check's render
        workflow.publish(session, key, 1, SYSTEM_IDENTITY, approval_categories=())


def version_says(service: Service, key: str) -> tuple[bool, list[str]]:
    version = service.client.get(f"/v1/templates/{key}/versions/1", headers=service.headers()).json()
    return version["contract_covers_parts"], version["contract_gaps"]


def error_of(response: Any) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["field"]


def test_a_covered_template_is_accepted_without_rendering_and_sent(
    service: Service, customer: dict[str, Any], render_checks: list[str]
) -> None:
    response = service.send(INVOICE, key="inv-1")
    assert response.status_code == 202, response.text
    assert render_checks == []
    assert service.work() == 1
    [queued] = response.json()["messages"]
    assert service.message(queued["id"])["status"] == "sent"


def test_bad_data_for_a_covered_template_is_the_contract_422_naming_the_field(
    service: Service, customer: dict[str, Any], render_checks: list[str]
) -> None:
    missing: dict[str, Any] = copy.deepcopy(INVOICE)
    del missing["data"]["invoice"]["number"]
    assert error_of(service.send(missing)) == (422, "missing_variable", "data.invoice.number")
    wrong: dict[str, Any] = copy.deepcopy(INVOICE)
    wrong["data"]["invoice"]["total"] = {"a": 1}
    assert error_of(service.send(wrong)) == (422, "data_invalid", "data.invoice.total")
    assert render_checks == []


def test_an_uncovered_template_keeps_the_render_check(
    service: Service, customer: dict[str, Any], render_checks: list[str]
) -> None:
    publish(service, "loose", {"sms": {"text": "Hi {{ name }}"}}, {"type": "object", "properties": {}})
    refused = service.send({"template": "loose", "customer_id": "c-1", "data": {}})
    assert error_of(refused) == (422, "missing_variable", "data.name")
    accepted = service.send({"template": "loose", "customer_id": "c-1", "data": {"name": "Giulia"}})
    assert accepted.status_code == 202, accepted.text
    assert len(render_checks) == 2
    assert version_says(service, "loose") == (False, ["data.name: not in the schema"])
    assert version_says(service, "invoice") == (True, [])  # so authors know which path their sends take


def test_a_customer_field_the_parts_read_is_checked_without_rendering(
    service: Service, customer: dict[str, Any], render_checks: list[str]
) -> None:
    schema = {"type": "object", "required": ["code"], "properties": {"code": {"type": "string"}}}
    publish(service, "hello", {"sms": {"text": "Hi {{ customer.nickname }}, {{ code }}"}}, schema)
    refused = service.send({"template": "hello", "customer_id": "c-1", "data": {"code": "1"}})
    assert error_of(refused) == (422, "missing_variable", "data.customer.nickname")
    data = {"code": "1", "customer": {"nickname": "Giuli"}}
    assert service.send({"template": "hello", "customer_id": "c-1", "data": data}).status_code == 202
    assert render_checks == []


def test_a_customer_field_is_needed_only_on_the_channels_whose_parts_read_it(
    service: Service, render_checks: list[str]
) -> None:
    body = {"email": "ada@example.com", "phone": "+393471234509"}  # no first_name among the attributes
    assert service.client.put("/v1/customers/c-2", json=body, headers=service.headers()).status_code == 201
    by_sms = service.send({**INVOICE, "customer_id": "c-2", "channels": ["sms"]})
    assert by_sms.status_code == 202, by_sms.text
    by_email = service.send({**INVOICE, "customer_id": "c-2"})  # the attached PDF greets them by name
    assert error_of(by_email) == (422, "missing_variable", "data.customer.first_name")
    assert render_checks == []


def test_a_covered_template_that_burns_is_stopped_at_the_worker(
    service_factory: ServiceFactory, render_checks: list[str]
) -> None:
    service = service_factory(render_cpu_seconds=1.5)
    service.client.put("/v1/customers/c-1", json={"phone": "+393471234501"}, headers=service.headers())
    publish(service, "burn", {"sms": {"text": BURN}}, {"type": "object"})
    response = service.send({"template": "burn", "customer_id": "c-1"})
    assert response.status_code == 202, response.text
    assert render_checks == []
    assert service.work() == 1
    [queued] = response.json()["messages"]
    assert service.message(queued["id"])["status"] == "failed"
    assert service.message(queued["id"])["last_error"] == "render_limit: cpu"


@pytest.fixture
def database_work(service: Service) -> Iterator[dict[str, int]]:
    """Statements executed (queries and writes) and commits made on the service's engine meanwhile."""
    counts = {"statements": 0, "commits": 0}

    def statement(_connection: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if not sql.startswith("BEGIN"):  # SQLite's explicit BEGIN: how a transaction starts there
            counts["statements"] += 1

    def commit(*_args: Any) -> None:
        counts["commits"] += 1

    engine = service.runtime.engine
    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    yield counts
    event.remove(engine, "before_cursor_execute", statement)
    event.remove(engine, "commit", commit)


def test_an_accepted_send_is_one_transaction_of_few_statements(
    service: Service, customer: dict[str, Any], database_work: dict[str, int]
) -> None:
    assert service.send(INVOICE, key="warm-up").status_code == 202  # the version's content is now cached
    database_work.update(statements=0, commits=0)
    assert service.send(INVOICE, key="inv-2").status_code == 202
    assert database_work["statements"] <= STATEMENTS_PER_SEND
    assert database_work["commits"] == 1


def test_a_send_checks_its_key_in_its_own_unit_of_work(service: Service, customer: dict[str, Any]) -> None:
    """One connection per send: the API key is looked up in the request's session (it was a second, read-only
    session and connection), and a revoked key is still refused on the very next send."""
    checkouts: list[object] = []

    def checked_out(*_args: Any) -> None:
        checkouts.append(object())

    assert service.send(INVOICE, key="warm-up").status_code == 202
    event.listen(service.runtime.engine, "checkout", checked_out)
    try:
        assert service.send(INVOICE, key="inv-3").status_code == 202
    finally:
        event.remove(service.runtime.engine, "checkout", checked_out)
    assert len(checkouts) == 1
    with session_scope(service.runtime.engine) as session:  # as another process would
        admin = authenticate(session, service.keys[Role.ADMIN])
        assert admin is not None and admin.id is not None
        revoke_api_key(session, admin.id)
    assert service.send(INVOICE, key="inv-4").status_code == 401
