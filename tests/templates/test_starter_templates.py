"""Every starter template in templates/ renders each of its parts with its own sample data."""

import io
import json
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from ccm.registry.contract_marks import formatted_fields
from renderers.email import EmailTemplate, check_email_template, render_email
from renderers.pdf import PdfTemplate, check_pdf_template, render_pdf
from renderers.sms import render_sms
from renderers.typst_pdf import TypstTemplate, check_typst_template, render_typst_pdf

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
ASSETS = TEMPLATES / "_assets"
KEYS = sorted(p.name for p in TEMPLATES.iterdir() if p.is_dir() and not p.name.startswith("_"))
CUSTOMER = {"external_id": "C-1001", "email": "zoe@example.com", "phone": "+393331234567", "locale": "it",
            "timezone": "Europe/Rome", "first_name": "Zoë", "last_name": "Müller"}  # fmt: skip


def load(key: str) -> tuple[dict[str, Any], dict[str, Any]]:
    meta = json.loads((TEMPLATES / key / "template.json").read_text())
    context = {
        **meta["sample_data"],
        "customer": CUSTOMER,
        "unsubscribe_url": "https://example.com/u/tok",
        "preferences_url": "https://example.com/p/tok",
    }
    return meta, context


def part(key: str, name: str) -> str | None:
    path = TEMPLATES / key / name
    return path.read_text() if path.exists() else None


def test_expected_templates_exist() -> None:
    assert {"invoice", "welcome", "otp", "statement"} <= set(KEYS)


@pytest.mark.parametrize("key", KEYS)
def test_metadata(key: str) -> None:
    meta, _ = load(key)
    assert meta["key"] == key
    assert meta["category"] in ("transactional", "marketing")
    assert meta["name"]
    assert meta["description"]
    has_email = part(key, "email.mjml") is not None or part(key, "email.html") is not None
    assert ("email" in meta) == has_email


@pytest.mark.parametrize("key", KEYS)
def test_renders_every_part(key: str) -> None:
    meta, context = load(key)
    if "email" in meta:
        template = EmailTemplate(
            subject=meta["email"]["subject"], mjml=part(key, "email.mjml"), html=part(key, "email.html"),
            text=part(key, "email.txt"),
        )  # fmt: skip
        check_email_template(template)
        email = render_email(template, context, locale="it", timezone="Europe/Rome")
        assert email.subject
        assert email.text.strip()
        if key == "welcome":
            assert "Zoë" in email.subject
        if meta["category"] == "marketing":
            assert 'href="https://example.com/u/tok"' in email.html
    if (sms := part(key, "sms.txt")) is not None:
        assert render_sms(sms, context, locale="it").segments >= 1
    if (html := part(key, "pdf.html")) is not None:
        template_pdf = PdfTemplate(html=html, css=part(key, "pdf.css"))
        check_pdf_template(template_pdf)
        pdf = render_pdf(template_pdf, context, locale="it", assets_dir=ASSETS)
        assert "Müller" in "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    if (typst := part(key, "pdf.typ")) is not None:
        marks = formatted_fields(json.loads(part(key, "schema.json") or "{}"))
        template_typst = TypstTemplate(typst, tuple(marks))
        check_typst_template(template_typst)
        pdf = render_typst_pdf(template_typst, context, locale="it", assets_dir=ASSETS)
        assert "Müller" in "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)


def test_invoice_email_content() -> None:
    meta, context = load("invoice")
    template = EmailTemplate(subject=meta["email"]["subject"], mjml=part("invoice", "email.mjml"))
    email = render_email(template, context, locale="it", link_rewriter=lambda url: url + "#t")
    assert email.subject == "Your invoice INV-2024-0042"
    assert email.html.count("Router rental") == 1
    assert 'href="https://example.com/invoices/INV-2024-0042#t"' in email.html
    assert "62,40" in email.text
    assert meta["email"]["attach_pdf"] is True


def test_statement_is_multi_page() -> None:
    _, context = load("statement")
    pdf = render_pdf(PdfTemplate(html=part("statement", "pdf.html") or ""), context, assets_dir=ASSETS)
    assert pdf.pages >= 2


def test_otp_is_one_gsm_segment() -> None:
    _, context = load("otp")
    sms = render_sms(part("otp", "sms.txt") or "", context)
    assert sms.text.startswith("Your code is 482913.")
    assert (sms.encoding, sms.segments) == ("GSM-7", 1)
