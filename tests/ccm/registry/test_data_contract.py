"""A version's data contract: a JSON Schema proposed from what its parts use (or given, or opted out of),
enforced on sends, batches and campaigns before anything is queued, and on the sample data at publish."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlmodel import func, select

from ccm.access.models import Role
from ccm.communications.models import Message
from ccm.database import session_scope
from ccm.settings import PROJECT_ROOT
from tests.ccm.conftest import Service

DIALECT = "https://json-schema.org/draft/2020-12/schema"
BILL_HTML = (
    "<p>Dear {{ customer.first_name }}, invoice {{ invoice.number }} of {{ invoice.total | money('EUR') }}."
    "{% for line in invoice.lines %}<br>{{ line.label }}: {{ line.paid }}{% endfor %}"
    "{% if invoice.note is defined %}<br>{{ invoice.note }}{% endif %}"
    " <a href='{{ unsubscribe_url }}'>Stop</a></p>"
)
BILL_SAMPLE = {"invoice": {"number": "INV-1", "total": 12.5, "lines": [{"label": "Fibre", "paid": True}]}}


def bill(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "key": "bill",
        "name": "Bill",
        "category": "transactional",
        "parts": {
            "email": {"subject": "Invoice {{ invoice.number }}", "html": BILL_HTML},
            "sms": {"text": "invoice {{ invoice.number }}{{ reference | default('') }}"},
        },
        "locales": {"it": {"sms": {"text": "fattura {{ invoice.number }} per {{ invoice.holder }}"}}},
        "sample_data": BILL_SAMPLE,
    }
    body.update(extra)
    return body


def create(service: Service, body: dict[str, Any]) -> Any:
    return service.client.post("/v1/templates", json=body, headers=service.headers(Role.MARKETER))


def published_bill(service: Service, **extra: Any) -> None:
    sample = {"invoice": {**BILL_SAMPLE["invoice"], "holder": "Ada"}}
    created = create(service, bill(sample_data=sample, **extra))
    assert created.status_code == 201, created.text
    published = service.client.post("/v1/templates/bill/versions/1/publish", headers=service.headers())
    assert published.status_code == 200, published.text


def queued(service: Service) -> int:
    with session_scope(service.runtime.engine) as session:
        return int(session.exec(select(func.count()).select_from(Message)).one())


def error_of(response: Any) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return error


def test_a_schema_is_proposed_from_the_variables_of_every_part_and_locale_typed_by_the_sample_data(
    service: Service,
) -> None:
    created = create(service, bill())

    assert created.status_code == 201, created.text
    assert created.json()["latest"]["schema"] == {
        "$schema": DIALECT,
        "type": "object",
        "properties": {
            "invoice": {
                "type": "object",
                "properties": {
                    "holder": {},  # used by the Italian SMS only; the sample data does not have it
                    "lines": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"label": {"type": "string"}, "paid": {"type": "boolean"}},
                            "required": ["label", "paid"],
                        },
                    },
                    "note": {},  # only under `is defined`: optional
                    "number": {"type": "string"},
                    "total": {"type": "number"},
                },
                "required": ["holder", "lines", "number", "total"],
            },
            "reference": {},  # only with `| default`: optional
        },
        "required": ["invoice"],
    }


def test_a_schema_given_is_kept_and_false_opts_out(service: Service) -> None:
    given = {"type": "object", "required": ["invoice"], "properties": {"invoice": {"type": "object"}}}

    with_schema = create(service, bill(schema=given))
    without = create(service, bill(key="bill2", schema=False))

    assert with_schema.status_code == 201, with_schema.text
    assert with_schema.json()["latest"]["schema"] == given
    assert without.status_code == 201, without.text
    assert without.json()["latest"]["schema"] is None
    version = service.client.post(
        "/v1/templates/bill/versions",
        json={"parts": bill()["parts"], "schema": False},
        headers=service.headers(),
    )
    assert version.status_code == 201 and version.json()["schema"] is None


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "nothing"},
        {"properties": {"a": {"pattern": "(unclosed"}}},
        {"$ref": "https://example.com/schema.json"},
        {"$schema": "http://json-schema.org/draft-07/schema#"},
        {"required": "invoice"},
    ],
)
def test_a_schema_that_is_not_a_valid_2020_12_schema_is_invalid_schema(
    service: Service, schema: dict[str, Any]
) -> None:
    response = create(service, bill(schema=schema))

    assert response.status_code == 422, response.text
    assert (error_of(response)["code"], error_of(response)["field"]) == ("invalid_schema", "schema")
    assert service.client.get("/v1/templates/bill", headers=service.headers()).status_code == 404


def test_a_schema_that_is_not_an_object_or_false_is_refused(service: Service) -> None:
    assert create(service, bill(schema=True)).status_code == 422
    assert create(service, bill(schema="object")).status_code == 422


def test_data_breaking_the_schema_is_data_invalid_naming_every_field_and_nothing_is_queued(
    service: Service, customer: dict[str, Any]
) -> None:
    """The issue's case: `{"a": 1}` as an invoice number went out as "invoice {'a': 1}"."""
    published_bill(service)
    data = {"invoice": {"number": {"a": 1}, "total": "lots", "lines": [{"label": "x", "paid": "yes"}]}}

    response = service.send({"template": "bill", "customer_id": "c-1", "data": data}, key="bad-data")

    assert response.status_code == 422, response.text
    error = error_of(response)
    assert (error["code"], error["field"]) == ("data_invalid", "data.invoice.holder")
    assert [(d["field"], d["pointer"]) for d in error["details"]] == [
        ("data.invoice.holder", "/invoice/holder"),
        ("data.invoice.lines.0.paid", "/invoice/lines/0/paid"),
        ("data.invoice.number", "/invoice/number"),
        ("data.invoice.total", "/invoice/total"),
    ]
    number = next(d for d in error["details"] if d["pointer"] == "/invoice/number")
    assert "{'a': 1} is not of type 'string'" in number["message"]
    assert queued(service) == 0


def test_only_missing_fields_keep_the_missing_variable_code(
    service: Service, customer: dict[str, Any]
) -> None:
    published_bill(service)

    response = service.send({"template": "bill", "customer_id": "c-1", "data": {"invoice": {"number": "1"}}})

    assert response.status_code == 422, response.text
    error = error_of(response)
    assert (error["code"], error["field"]) == ("missing_variable", "data.invoice.holder")
    assert [d["pointer"] for d in error["details"]] == ["/invoice/holder", "/invoice/lines", "/invoice/total"]
    assert queued(service) == 0


def test_valid_data_is_sent(service: Service, customer: dict[str, Any]) -> None:
    published_bill(service)
    data = {"invoice": {"number": "INV-9", "total": 3, "holder": "Giulia", "lines": []}}

    response = service.send({"template": "bill", "customer_id": "c-1", "data": data, "channels": ["sms"]})

    assert response.status_code == 202, response.text
    service.work()
    message_id = response.json()["messages"][0]["id"]
    assert "fattura INV-9 per Giulia" in (service.settings.outbox_dir / f"{message_id}.json").read_text()


def test_a_version_without_a_schema_keeps_the_render_check_only(
    service: Service, customer: dict[str, Any]
) -> None:
    published_bill(service, schema=False)
    odd = {"invoice": {"number": {"a": 1}, "total": 1, "holder": "G", "lines": []}}

    missing = service.send({"template": "bill", "customer_id": "c-1", "data": {}})
    accepted = service.send({"template": "bill", "customer_id": "c-1", "data": odd, "channels": ["sms"]})

    assert missing.status_code == 422 and error_of(missing)["code"] == "missing_variable"
    assert accepted.status_code == 202, accepted.text  # what a schema is there to stop


def test_each_batch_item_is_validated_on_its_own(service: Service, customer: dict[str, Any]) -> None:
    published_bill(service)
    good = {"invoice": {"number": "INV-9", "total": 3, "holder": "Giulia", "lines": []}}
    bad = {"invoice": {**good["invoice"], "number": {"a": 1}}}
    items = [
        {
            "template": "bill",
            "customer_id": "c-1",
            "data": good,
            "channels": ["sms"],
            "idempotency_key": "b-1",
        },
        {
            "template": "bill",
            "customer_id": "c-1",
            "data": bad,
            "channels": ["sms"],
            "idempotency_key": "b-2",
        },
    ]

    response = service.client.post("/v1/messages:batch", json={"messages": items}, headers=service.headers())

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (1, 1)
    error = body["results"][1]["error"]
    assert error["code"] == "data_invalid"
    assert [d["pointer"] for d in error["details"]] == ["/invoice/number"]
    assert queued(service) == 1


def test_campaign_data_is_validated_when_the_campaign_is_created(service: Service) -> None:
    published_bill(service)
    body = {"name": "Reminder", "template": "bill", "channels": ["sms"], "data": {"invoice": {"number": 7}}}

    response = service.client.post("/v1/campaigns", json=body, headers=service.headers(Role.MARKETER))

    assert response.status_code == 422, response.text
    assert error_of(response)["code"] == "data_invalid"
    assert "/invoice/number" in [d["pointer"] for d in error_of(response)["details"]]


def test_publishing_requires_the_sample_data_to_keep_the_schema(service: Service) -> None:
    schema = {
        "type": "object",
        "properties": {"invoice": {"type": "object", "properties": {"number": {"type": "string"}}}},
    }
    sample = {"invoice": {**BILL_SAMPLE["invoice"], "number": {"a": 1}, "holder": "Ada"}}
    assert create(service, bill(schema=schema, sample_data=sample)).status_code == 201

    refused = service.client.post("/v1/templates/bill/versions/1/publish", headers=service.headers())

    assert refused.status_code == 422, refused.text
    error = error_of(refused)
    assert (error["code"], error["field"]) == ("data_invalid", "sample_data.invoice.number")
    assert error["details"][0]["pointer"] == "/invoice/number"
    template = service.client.get("/v1/templates/bill", headers=service.headers()).json()
    assert template["published_version"] is None


def test_publishing_refuses_sample_data_missing_a_required_variable_as_data_invalid(service: Service) -> None:
    assert create(service, bill()).status_code == 201  # the proposal requires `invoice.holder`

    refused = service.client.post("/v1/templates/bill/versions/1/publish", headers=service.headers())

    assert refused.status_code == 422, refused.text
    assert (error_of(refused)["code"], error_of(refused)["field"]) == (
        "data_invalid",
        "sample_data.invoice.holder",
    )


def test_the_starter_templates_carry_the_schema_of_their_folder(service: Service) -> None:
    for key in ("invoice", "otp", "statement", "welcome"):
        version = service.client.get(f"/v1/templates/{key}/versions/1", headers=service.headers()).json()
        assert version["schema"] == json.loads((PROJECT_ROOT / "templates" / key / "schema.json").read_text())
