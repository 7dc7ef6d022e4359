"""The template registry over HTTP: create, version, publish, preview, and the sandbox."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from pypdf import PdfReader

from ccm.access.models import Role
from tests.ccm.conftest import Service

TABLE_MJML = """<mjml><mj-body><mj-section><mj-column>
<mj-table>
  <tr><th>Item</th><th>Price</th></tr>
  {% for line in order.lines %}<tr><td>{{ line.name }}</td>
  <td>{{ line.price | money('EUR') }}</td></tr>{% endfor %}
</mj-table>
<mj-text>{% if order.total > 100 %}Big order{% else %}Small order{% endif %}</mj-text>
<mj-button href="https://shop.example/orders/{{ order.id }}?a=1&b=2">Track</mj-button>
</mj-column></mj-section></mj-body></mjml>"""


def order_template(key: str = "order") -> dict[str, Any]:
    return {
        "key": key,
        "name": "Order confirmation",
        "category": "transactional",
        "parts": {
            "email": {"subject": "Order {{ order.id }}", "mjml": TABLE_MJML},
            "sms": {"text": "Order {{ order.id }}: {{ order.total | money('EUR') }}"},
            "pdf": {"html": "<h1>Order {{ order.id }}</h1>", "css": "@page { size: A4; margin: 2cm }"},
        },
        "sample_data": {
            "order": {
                "id": "A-17",
                "total": 120,
                "lines": [
                    {"name": "Lamp <b>", "price": 20},
                    {"name": "Desk", "price": 90},
                    {"name": "Pen", "price": 10},
                ],
            }
        },
    }


def test_create_version_publish_and_preview(service: Service) -> None:
    created = service.client.post(
        "/v1/templates", json=order_template(), headers=service.headers(Role.MARKETER)
    )
    assert created.status_code == 201, created.text
    assert created.json()["versions"] == [
        {**created.json()["versions"][0], "number": 1, "status": "draft", "channels": ["email", "sms", "pdf"]}
    ]
    assert created.json()["published_version"] is None

    preview = service.client.post(
        "/v1/templates/order/preview", json={"locale": "de"}, headers=service.headers(Role.MARKETER)
    )
    assert preview.status_code == 200, preview.text
    body = preview.json()
    html = body["email"]["html"]
    assert html.count("<td") >= 6 and "Lamp &lt;b&gt;" in html and "Desk" in html and "Pen" in html
    assert "Big order" in html and "Small order" not in html
    assert "https://shop.example/orders/A-17?a=1&amp;b=2" in html
    assert body["email"]["subject"] == "Order A-17"
    assert body["sms"] == {
        "text": "Order A-17: 120,00 €",
        "encoding": "GSM-7",
        "segments": 1,
        "ucs2_characters": [],
    }
    pdf = base64.b64decode(body["pdf"]["base64"])
    assert body["pdf"]["pages"] == len(PdfReader(io.BytesIO(pdf)).pages) == 1

    draft_send = service.send({"template": "order", "customer_id": "c-1", "data": {}}, key="unpublished")
    assert draft_send.status_code in (404, 422)

    published = service.client.post(
        "/v1/templates/order/versions/1/publish", headers=service.headers(Role.MARKETER)
    )
    assert published.status_code == 200 and published.json()["status"] == "published"
    second = service.client.post(
        "/v1/templates/order/versions",
        json={
            "parts": order_template()["parts"] | {"sms": {"text": "v2 {{ order.id }}"}},
            "sample_data": order_template()["sample_data"],
        },
        headers=service.headers(Role.MARKETER),
    )
    assert second.status_code == 201 and second.json()["number"] == 2 and second.json()["status"] == "draft"
    detail = service.client.get("/v1/templates/order", headers=service.headers(Role.MARKETER)).json()
    assert detail["published_version"] == 1 and detail["latest_version"] == 2
    v1 = service.client.get("/v1/templates/order/versions/1", headers=service.headers()).json()
    assert v1["parts"]["sms"]["text"].startswith("Order")  # the published version did not change


def test_duplicate_key_and_bad_parts_are_refused(service: Service) -> None:
    headers = service.headers(Role.MARKETER)
    assert service.client.post("/v1/templates", json=order_template(), headers=headers).status_code == 201
    duplicate = service.client.post("/v1/templates", json=order_template(), headers=headers)
    assert duplicate.status_code == 409 and duplicate.json()["error"]["field"] == "key"

    broken = order_template("broken")
    broken["parts"]["sms"]["text"] = "Hi {{ customer.first_name "
    response = service.client.post("/v1/templates", json=broken, headers=headers)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "parts.sms.text"

    both = order_template("both")
    both["parts"]["email"]["html"] = "<p>x</p>"
    response = service.client.post("/v1/templates", json=both, headers=headers)
    assert response.status_code == 422 and "exactly one" in response.json()["error"]["message"]

    bad_key = order_template("Bad Key!")
    response = service.client.post("/v1/templates", json=bad_key, headers=headers)
    assert response.status_code == 422 and response.json()["error"]["field"] == "key"


def test_publishing_a_version_older_than_the_live_one_is_refused(service: Service) -> None:
    headers = service.headers(Role.MARKETER)
    assert service.client.post("/v1/templates", json=order_template(), headers=headers).status_code == 201
    for text in ("v2 {{ order.id }}", "v3 {{ order.id }}"):
        body = {"parts": {"sms": {"text": text}}, "sample_data": order_template()["sample_data"]}
        assert (
            service.client.post("/v1/templates/order/versions", json=body, headers=headers).status_code == 201
        )

    def publish(number: int) -> Any:
        return service.client.post(f"/v1/templates/order/versions/{number}/publish", headers=headers)

    assert publish(1).status_code == 200
    assert publish(3).status_code == 200
    for older in (2, 1):  # a draft below the live version, and a published one that was superseded
        refused = publish(older)
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["code"] == "version_superseded"
        assert refused.json()["error"]["field"] == "version"
        assert "published version 3" in refused.json()["error"]["message"]
        message = refused.json()["error"]["message"]
        assert f'roll back to it (POST /v1/templates/order/rollback {{"to": {older}}})' in message
    assert publish(3).status_code == 200  # publishing the live version again is still a no-op

    detail = service.client.get("/v1/templates/order", headers=headers).json()
    assert detail["published_version"] == 3
    assert [v["status"] for v in detail["versions"]] == ["superseded", "draft", "published"]
    preview = service.client.post("/v1/templates/order/preview", json={}, headers=headers).json()
    assert preview["version"] == 3 and preview["sms"]["text"] == "v3 A-17"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "unsafe"),
        ("{{ cycler.__init__.__globals__.os }}", "unsafe"),
        ("{% include '/etc/passwd' %}", "include"),
        ("{{ self.__dict__ }}", "unsafe"),
    ],
)
def test_template_code_cannot_reach_python_internals_or_files(
    service: Service, source: str, expected: str
) -> None:
    template = order_template("evil")
    template["parts"] = {"sms": {"text": source}}
    created = service.client.post("/v1/templates", json=template, headers=service.headers())
    if created.status_code == 422:
        assert created.json()["error"]["message"]
        return
    assert created.status_code == 201
    preview = service.client.post("/v1/templates/evil/preview", json={}, headers=service.headers())
    assert preview.status_code == 422, preview.text
    assert preview.json()["error"]["message"]
    assert "root:" not in preview.text


def test_pdf_cannot_fetch_local_files_or_the_network(service: Service) -> None:
    template = order_template("leaky")
    template["parts"] = {"pdf": {"html": '<img src="file:///etc/passwd"><p>x</p>'}}
    assert service.client.post("/v1/templates", json=template, headers=service.headers()).status_code == 201
    preview = service.client.post("/v1/templates/leaky/preview", json={}, headers=service.headers())
    assert preview.status_code == 422
    assert "file:///etc/passwd" in preview.json()["error"]["message"]


def test_missing_variable_is_named_never_rendered_empty(service: Service, customer: dict[str, Any]) -> None:
    response = service.send({"template": "invoice", "customer_id": "c-1", "data": {}}, key="no-data")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "missing_variable"
    assert "invoice" in error["message"] and error["field"].startswith("data.invoice")
    preview = service.client.post(
        "/v1/templates/invoice/preview",
        json={"data": {"invoice": {"number": "X"}}},
        headers=service.headers(),
    )
    assert preview.status_code == 200  # sample data fills the rest in previews
