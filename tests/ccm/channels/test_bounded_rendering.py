"""Authors' templates render in the render pool, under limits: a burn, a memory bomb or a page bomb is
stopped, named (422 `render_limit` with the limit), and costs nobody else anything."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from ccm.access.identity import SYSTEM_IDENTITY
from ccm.access.models import Role
from ccm.database import session_scope
from ccm.registry import workflow
from tests.ccm.conftest import Service, ServiceFactory

BURN = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}x"
BOMB = "{% set a = range(300) | map('string') | map('center', 4900000) | list %}{{ a | length }}"
PAGES = "{% for i in range(50) %}<p style='break-after: page'>{{ i }}</p>{% endfor %}"
LIMITS = {"render_cpu_seconds": 1.5, "render_memory_mb": 256, "pdf_max_pages": 20, "sms_max_segments": 2}


def template(service: Service, key: str, parts: dict[str, Any], category: str = "transactional") -> str:
    body = {"key": key, "name": key, "category": category, "parts": parts}
    headers = service.headers(Role.MARKETER)
    response = service.client.post("/v1/templates", json=body, headers=headers)
    assert response.status_code == 201, response.text
    with session_scope(service.runtime.engine) as session:  # past the publish check, which would stop a
        workflow.publish(session, key, 1, SYSTEM_IDENTITY, approval_categories=())  # burn: sends must too
    return key


def preview(service: Service, key: str) -> Any:
    return service.client.post(f"/v1/templates/{key}/preview", json={}, headers=service.headers())


@pytest.fixture
def bounded(service_factory: ServiceFactory) -> Service:
    return service_factory(**LIMITS)


@pytest.mark.parametrize(
    ("parts", "limit", "field"),
    [
        ({"sms": {"text": BURN}}, "cpu", "parts.sms.text"),
        ({"sms": {"text": BOMB}}, "memory", "parts.sms.text"),
        ({"pdf": {"html": PAGES}}, "pdf_pages", "parts.pdf.html"),
        ({"sms": {"text": "{{ 'word ' * 100 }}"}}, "sms_segments", "parts.sms.text"),
    ],
)
def test_a_preview_over_a_limit_is_a_422_naming_it(
    bounded: Service, parts: dict[str, Any], limit: str, field: str
) -> None:
    response = preview(bounded, template(bounded, "heavy", parts))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["limit"], error["field"]) == ("render_limit", limit, field)
    assert preview(bounded, "invoice").status_code == 200  # the next render gets a fresh process


def test_the_send_check_stops_a_burn_before_anything_is_queued(bounded: Service, customer: Any) -> None:
    # `name`, untyped in the proposed schema, keeps the render check (a covered burn stops at the worker)
    template(bounded, "burn", {"sms": {"text": BURN + "{{ name }}"}})
    response = bounded.send({"template": "burn", "customer_id": "c-1", "data": {"name": "Ada"}})
    assert response.status_code == 422
    assert response.json()["error"]["limit"] == "cpu"
    listed = bounded.client.get("/v1/messages", params={"template": "burn"}, headers=bounded.headers())
    assert listed.json()["items"] == []


def test_a_message_that_burns_in_the_worker_fails_naming_the_limit_and_the_otp_goes_out(
    bounded: Service, customer: Any
) -> None:
    trap = "{% if '/u/check' in unsubscribe_url %}fine{% else %}" + BURN + "{% endif %}"
    template(bounded, "trap", {"email": {"subject": "Hi", "html": f"<p>{trap}</p>"}}, category="marketing")
    burning = bounded.send({"template": "trap", "customer_id": "c-1"})
    assert burning.status_code == 202, burning.text  # the check's stand-in link passes; the real one burns
    code_data = {"code": "123456", "expires_minutes": 10}
    otp = bounded.send({"template": "otp", "customer_id": "c-1", "data": code_data})
    assert otp.status_code == 202, otp.text
    assert bounded.work() == 2
    [burnt] = burning.json()["messages"]
    assert bounded.message(burnt["id"])["status"] == "failed"
    assert bounded.message(burnt["id"])["last_error"] == "render_limit: cpu"
    [code] = otp.json()["messages"]
    assert bounded.message(code["id"])["status"] == "sent"


def test_other_requests_answer_while_a_slow_preview_renders(bounded: Service, customer: Any) -> None:
    template(bounded, "slow", {"sms": {"text": BURN}})
    done = threading.Event()

    def slow() -> None:
        preview(bounded, "slow")
        done.set()

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    response = bounded.client.get("/v1/customers/c-1", headers=bounded.headers())
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert not done.is_set(), "the slow preview should still be rendering"
    assert elapsed < 1.0
    thread.join(30)
