"""The editor shows a Typst PDF part as the PDF document's Typst choice, and previews it unsaved."""

from __future__ import annotations

import html
import re

from tests.ccm.conftest import Service
from tests.ccm.web.views.test_editor import live, signed_in_form


def test_a_typst_pdf_part_is_edited_and_previewed_as_typst(service: Service) -> None:
    fields = signed_in_form(service, key="invoice-typst")
    page = service.client.get("/ui/templates/invoice-typst").text
    source = re.search(r'<textarea name="pdf_html"[^>]*>(.*?)</textarea>', page, re.S)
    sample = re.search(r'<textarea name="sample_data"[^>]*>(.*?)</textarea>', page, re.S)
    assert source and sample
    assert "json(bytes(sys.inputs.data))" in html.unescape(source.group(1))
    assert re.search(r'value="typst"[^>]*\bchecked|value="typst"[^>]*\bselected', page)

    posted = {"pdf_html": html.unescape(source.group(1)), "pdf_html_kind": "typst"}
    response = live(
        service, {**fields, **posted, "sample_data": html.unescape(sample.group(1))}, key="invoice-typst"
    )

    assert response.status_code == 200, response.text
    assert 'data-pdf-base64="JVBERi0' in response.text  # base64 of "%PDF-"
