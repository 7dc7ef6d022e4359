"""A fourth channel, registered by this test alone, goes through the whole service unchanged.

The spec below is everything the "memo" channel is: a part schema, a trivial renderer, composing to plain
text, the outbox as its default provider. Nothing else in the service knows about it, yet it is accepted
by the registry, previewed, sent through the API, rendered by the worker, archived, handed to the outbox,
shown on the customer's timeline, listed by the outbox page and refused where it is not registered.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field

from ccm.access.models import Role
from ccm.channels import (
    ChannelSpec,
    ComposeContext,
    Composed,
    FormField,
    RenderOptions,
    Tracking,
    register_channel,
    unregister_channel,
)
from ccm.channels.spec import ComposableMessage, CustomerAddresses, Parts
from ccm.web.forms import PartsForm
from ccm.web.payloads import TextView, payload_view, view_name
from delivery import read_outbox
from renderers.environment import check_syntax, render_text
from tests.ccm.conftest import Service, ServiceFactory


class MemoPart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=1000)


class MemoPreview(BaseModel):
    text: str


def render(parts: Parts, context: dict[str, Any], options: RenderOptions, _tracking: Tracking) -> str:
    return render_text(parts["memo"]["text"], context, locale=options.locale, timezone=options.timezone)


def compose(
    message: ComposableMessage, parts: Parts, _ctx: ComposeContext, options: RenderOptions
) -> Composed:
    text = render(parts, message.context, options, Tracking())
    return Composed(f"To {message.recipient}: {text}".encode(), "text/plain", sender="ccm memo")


def recipient(customer: CustomerAddresses) -> str:
    return customer.external_id


MEMO = ChannelSpec(
    key="memo",
    label="Memo",
    part_model=MemoPart,
    render=render,
    compose=compose,
    sources=lambda parts: [("memo.text", parts["memo"]["text"])],
    check=lambda parts: check_syntax(parts["memo"]["text"]),
    recipient=recipient,
    sender=lambda _settings: "ccm memo",
    default_provider=lambda _settings: "outbox",
    deadline_setting="deadline_email_seconds",
    preview_model=MemoPreview,
    preview=lambda rendered, _parts, _key: MemoPreview(text=rendered),
    content_type="text/plain",
    file_extension="txt",
    source_field="text",
    form_fields=(FormField("text", "Memo text", "text"),),
)

TEMPLATE: dict[str, Any] = {
    "key": "memo-note",
    "name": "A memo",
    "category": "transactional",
    "parts": {"memo": {"text": "Hello {{ customer.first_name }}, your code is {{ code }}"}},
    "sample_data": {"customer": {"first_name": "Ada"}, "code": "42"},
}


@pytest.fixture
def memo_service(service_factory: ServiceFactory) -> Iterator[Service]:
    """The service started while "memo" is registered (providers are routed at start-up)."""
    register_channel(MEMO)
    try:
        service = service_factory()
        headers = service.headers(Role.MARKETER)
        assert service.client.post("/v1/templates", json=TEMPLATE, headers=headers).status_code == 201
        published = service.client.post("/v1/templates/memo-note/versions/1/publish", headers=headers)
        assert published.status_code == 200, published.text
        body = {"locale": "en", "attributes": {"first_name": "Grace"}}
        assert (
            service.client.put("/v1/customers/m-1", json=body, headers=service.headers()).status_code == 201
        )
        yield service
    finally:
        unregister_channel("memo")


def test_a_registered_channel_is_sent_archived_and_on_the_timeline(memo_service: Service) -> None:
    service = memo_service
    response = service.send({"template": "memo-note", "customer_id": "m-1", "data": {"code": "7"}}, key="m1")
    assert response.status_code == 202, response.text
    [queued] = response.json()["messages"]
    assert queued["channel"] == "memo"

    assert service.work() == 1
    message = service.message(queued["id"])
    assert message["status"] == "sent", message
    assert message["provider"] == "memo-outbox"
    assert message["recipient"] == "m-1"

    expected = b"To m-1: Hello Grace, your code is 7"
    entry, handed_over = read_outbox(service.settings.outbox_dir, queued["id"])
    assert handed_over == expected
    assert entry.channel == "memo" and entry.content_type == "text/plain"
    assert message["archive"]["sha256"] == hashlib.sha256(expected).hexdigest()
    archived = service.client.get(
        f"/v1/archive/{queued['id']}/content", headers=service.headers(Role.COMPLIANCE)
    )
    assert archived.status_code == 200 and archived.content == expected

    timeline = service.client.get("/v1/customers/m-1/timeline", headers=service.headers()).json()["events"]
    kinds = [(event["type"], event["channel"]) for event in reversed(timeline)]
    assert kinds == [("queued", "memo"), ("archived", "memo"), ("sent", "memo")]


def test_a_registered_channel_is_previewed_and_named_in_the_api(memo_service: Service) -> None:
    service = memo_service
    preview = service.client.post("/v1/templates/memo-note/preview", json={}, headers=service.headers())
    assert preview.status_code == 200, preview.text
    assert preview.json()["memo"] == {"text": "Hello Ada, your code is 42"}
    detail = service.client.get("/v1/templates/memo-note", headers=service.headers()).json()
    assert detail["versions"][0]["channels"] == ["memo"]
    schema = service.client.get("/openapi.json").json()
    parts = schema["components"]["schemas"]["VersionCreate"]["properties"]["parts"]["properties"]
    assert set(parts) == {"email", "sms", "pdf", "memo"}


def test_a_channel_that_is_not_registered_is_refused(service: Service) -> None:
    headers = service.headers(Role.MARKETER)
    response = service.client.post("/v1/templates", json=TEMPLATE, headers=headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unknown_channel"
    assert "memo" in response.json()["error"]["message"]
    send = service.send({"template": "invoice", "customer_id": "c-1", "channels": ["memo"]})
    assert send.status_code == 422
    assert send.json()["error"]["code"] == "unknown_channel"
    assert send.json()["error"]["field"] == "channels.0"


@pytest.fixture
def memo_registered() -> Iterator[None]:
    register_channel(MEMO)
    try:
        yield
    finally:
        unregister_channel("memo")


def test_a_registered_channel_gets_its_authoring_fieldset_and_views(memo_registered: None) -> None:
    form = PartsForm.from_version(TEMPLATE["parts"], TEMPLATE["sample_data"])
    memo = [fieldset for fieldset in form.fieldsets() if fieldset.legend == "Memo"]
    assert [(f.name, f.value) for f in memo[0].fields] == [("memo_text", TEMPLATE["parts"]["memo"]["text"])]
    assert form.version_request().parts == TEMPLATE["parts"]
    assert view_name("memo") == "text"
    assert payload_view("memo").parse(b"To m-1: hi") == TextView("To m-1: hi")
