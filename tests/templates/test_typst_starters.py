"""The starter invoice and statement exist on both PDF engines with the same content: for the same sample
data, the text pypdf extracts from the WeasyPrint and the Typst PDF carries the same key fields."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from pypdf import PdfReader

from ccm.registry.contract_marks import formatted_fields
from renderers.pdf import PdfTemplate, RenderedPdf, render_pdf
from renderers.typst_pdf import TypstTemplate, render_typst_pdf
from tests.templates.test_starter_templates import ASSETS, CUSTOMER, TEMPLATES, part

PAIRS = [("invoice", "invoice-typst"), ("statement", "statement-typst")]


def sample(key: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((TEMPLATES / key / "template.json").read_text())["sample_data"]
    return data


def both(html_key: str, typst_key: str, locale: str) -> tuple[RenderedPdf, RenderedPdf]:
    context = {**sample(typst_key), "customer": CUSTOMER}
    html = PdfTemplate(html=part(html_key, "pdf.html") or "", css=part(html_key, "pdf.css"))
    marks = tuple(formatted_fields(json.loads(part(typst_key, "schema.json") or "{}")))
    typst = TypstTemplate(part(typst_key, "pdf.typ") or "", marks)
    options: dict[str, Any] = {"locale": locale, "timezone": "Europe/Rome", "assets_dir": ASSETS}
    return render_pdf(html, context, **options), render_typst_pdf(typst, context, **options)


def lines_of(pdf: RenderedPdf) -> list[str]:
    """The extracted text, one line each, spaces normalised (the engines break and space differently)."""
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    return [re.sub(r"\s+", " ", line).strip() for line in text.splitlines() if line.strip()]


def test_the_typst_twins_keep_the_weasyprint_templates_sample_data() -> None:
    for html_key, typst_key in PAIRS:
        html_data, typst_data = sample(html_key), sample(typst_key)
        for line in typst_data.get("invoice", {}).get("lines", []):
            line.pop(
                "amount"
            )  # the Typst invoice takes each line's amount in the data: it has no arithmetic filter
        assert html_data == typst_data


@pytest.mark.parametrize("locale", ["it", "en"])
def test_the_invoice_reads_the_same_on_both_engines(locale: str) -> None:
    weasy, typst = both("invoice", "invoice-typst", locale)
    expected = lines_of(weasy)
    found = lines_of(typst)
    key_lines = [line for line in expected if re.search(r"€|INV-|Issued|Due|Customer|Please pay|Page", line)]
    assert len(key_lines) == 10  # number, issued, due, customer, three lines, total, the note, page 1 of 1
    for line in key_lines:
        assert line in found, (line, found)
    assert (weasy.pages, typst.pages) == (1, 1)


def test_the_statement_reads_the_same_on_both_engines_over_several_pages() -> None:
    weasy, typst = both("statement", "statement-typst", "it")
    assert weasy.pages >= 2 and typst.pages >= 2
    assert typst.pages == len(PdfReader(io.BytesIO(typst.data)).pages)  # the engine's own count
    transactions = sample("statement")["statement"]["transactions"]
    found, expected = set(lines_of(typst)), lines_of(weasy)
    rows = [line for line in expected if re.match(r"\d+/\d+/\d+ ", line)]
    assert len(rows) == len(transactions)
    for line in rows + [line for line in expected if "saldo" in line.lower() or "balance" in line.lower()]:
        assert line in found, line
    for line in expected:
        if line.startswith(("Opening", "Closing", "Transactions", "1 gennaio", "Giulia", "Zoë")):
            assert line in found, line
