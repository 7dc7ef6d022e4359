"""A template's PDF part chooses its engine: WeasyPrint (HTML) or Typst. Through the API: the part's
validation, save-time checks, the contract's formatted fields, preview, page limit and a send through the
outbox (the starter `invoice-typst`)."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from pypdf import PdfReader

from ccm.access.models import Role
from tests.ccm.channels.test_bounded_rendering import preview, template
from tests.ccm.communications.test_pipeline import qpdf_check, send_one
from tests.ccm.conftest import Service, ServiceFactory

READS = "#let data = json(bytes(sys.inputs.data))\n#let shown = json(bytes(sys.inputs.formatted))\n"


def create(service: Service, key: str, parts: dict[str, Any], schema: Any = None) -> Any:
    body: dict[str, Any] = {"key": key, "name": key, "category": "transactional", "parts": parts}
    if schema is not None:
        body["schema"] = schema
    return service.client.post("/v1/templates", json=body, headers=service.headers(Role.MARKETER))


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.parametrize(
    ("pdf", "named"),
    [
        ({"engine": "typst"}, "typst"),
        ({"engine": "typst", "typst": "hi", "html": "<p>hi</p>"}, "html"),
        ({"engine": "typst", "typst": "hi", "css": "p {}"}, "css"),
        ({"engine": "weasyprint", "typst": "hi"}, "html"),
        ({"html": "<p>hi</p>", "typst": "hi"}, "typst"),
        ({"engine": "latex", "typst": "hi"}, "engine"),
    ],
)
def test_each_engine_needs_its_own_source_422_naming_the_field(
    service: Service, pdf: dict[str, Any], named: str
) -> None:
    response = create(service, "bad-engine", {"pdf": pdf})
    assert response.status_code == 422, response.text
    assert named in response.text


def test_a_typst_source_alone_chooses_the_typst_engine(service: Service) -> None:
    response = create(service, "typst-only", {"pdf": {"typst": READS + "= Hello #data.customer.external_id"}})
    assert response.status_code == 201, response.text
    assert response.json()["latest"]["parts"]["pdf"] == {
        "engine": "typst",
        "typst": READS + "= Hello #data.customer.external_id",
    }


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ('#import "@preview/tablex:0.0.8": tablex', "package imports are not allowed"),
        ("= Title\n#table(columns: 2, [a]", "unclosed delimiter (line 2)"),
    ],
)
def test_save_refuses_packages_and_syntax_errors(service: Service, source: str, message: str) -> None:
    response = create(service, "bad-typst", {"pdf": {"engine": "typst", "typst": source}})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert message in error["message"]
    assert error["field"] == "parts.pdf.typst"


def test_a_misspelt_money_mark_is_an_invalid_schema(service: Service) -> None:
    schema = {"type": "object", "properties": {"total": {"x-ccm-money": {"currency": "euro"}}}}
    response = create(service, "bad-mark", {"pdf": {"engine": "typst", "typst": "x"}}, schema)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_schema"
    assert "/properties/total/x-ccm-money" in error["message"]


def test_preview_prints_data_literally_with_the_contracts_formatted_copies(service: Service) -> None:
    source = READS + "#data.note / #shown.total / #shown.due"
    schema = {
        "type": "object",
        "properties": {
            "note": {"type": "string"},
            "total": {"type": "string", "x-ccm-money": {"currency": "/currency"}},
            "due": {"type": "string", "format": "date"},
        },
    }
    assert create(service, "typst-preview", {"pdf": {"typst": source}}, schema).status_code == 201
    data = {
        "note": '#panic("x") ] #set page(width: 1cm)',
        "total": "1234.5",
        "currency": "EUR",
        "due": "2024-03-31",
    }
    body = {"data": data, "locale": "it"}
    response = service.client.post(
        "/v1/templates/typst-preview/preview", json=body, headers=service.headers()
    )
    assert response.status_code == 200, response.text
    rendered = response.json()["rendered"]["pdf"] if "rendered" in response.json() else response.json()["pdf"]
    text = text_of(base64.b64decode(rendered["base64"]))
    assert '#panic("x") ] #set page(width: 1cm)' in text
    assert "1.234,50\xa0€ / 31 marzo 2024" in text


def test_a_typst_page_bomb_is_a_422_naming_the_page_limit(service_factory: ServiceFactory) -> None:
    bounded = service_factory(pdf_max_pages=20)
    key = template(
        bounded,
        "typst-pages",
        {"pdf": {"engine": "typst", "typst": "#for i in range(5000) [x #pagebreak()]"}},
    )
    response = preview(bounded, key)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["limit"]) == ("render_limit", "pdf_pages")


def test_the_starter_typst_invoice_goes_out_through_the_outbox_as_pdf_a(
    service: Service, customer: dict[str, Any], tmp_path: Path
) -> None:
    starter = service.client.get("/v1/templates/invoice-typst", headers=service.headers()).json()
    data = starter["latest"]["sample_data"]  # the PDF alone (by default it goes attached to the email)
    body = {"template": "invoice-typst", "customer_id": "c-1", "data": data, "channels": ["pdf"]}
    message_id = send_one(service, body, "typst-1")
    service.work()

    message = service.message(message_id)
    assert message["status"] == "sent", message
    printed = (service.settings.outbox_dir / f"{message_id}.pdf").read_bytes()
    qpdf_check(printed, tmp_path)
    with pikepdf.open(io.BytesIO(printed)) as document:
        metadata = document.open_metadata()
        assert (metadata.get("pdfaid:part"), metadata.get("pdfaid:conformance")) == ("3", "B")
    text = text_of(printed)
    assert "Giulia Rossi" in text and "INV-2024-0042" in text
    assert "62,40\xa0€" in text and "31 marzo 2024" in text  # the Italian customer's formatted copies
