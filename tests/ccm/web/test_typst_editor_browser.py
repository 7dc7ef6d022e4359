"""The template editor in Chromium on a Typst PDF, at a laptop's width and a phone's: the PDF part shows Typst
as its chosen format, the live preview compiles the unsaved source into a PDF, a Typst error appears beside
the field with the line the author wrote, and the page never scrolls sideways."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from ccm.access.models import Role
from tests.ccm.web.conftest import LiveService
from tests.ccm.web.test_browser import SCREENSHOTS, browser_sign_in
from tests.ccm.web.test_campaign_browser import assert_fits
from tests.ccm.web.test_editor_browser import latest_version, without_bundle  # noqa: F401  (its fixture)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("without_bundle")]  # the plain textareas
PREVIEW_MS = 30_000
"""A compile in the render pool, on a machine the suite keeps busy."""


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (390, 844)])
def test_a_typst_pdf_is_chosen_previewed_and_fits_the_screen(
    page: Page, live: LiveService, width: int, height: int
) -> None:
    before = latest_version(live, "invoice-typst")
    page.set_viewport_size({"width": width, "height": height})
    browser_sign_in(page, live, Role.MARKETER)
    page.goto("/ui/templates/invoice-typst", wait_until="domcontentloaded")

    engine = page.locator("select[name=pdf_html_kind]")
    expect(engine).to_have_value("typst")
    expect(engine.locator("option")).to_have_text(["HTML", "TYPST"])
    source = page.locator("textarea[name=pdf_html]")
    expect(source).to_contain_text("sys.inputs.data")
    frame = page.locator("#preview-pdf iframe.pdf")
    saved = frame.get_attribute("src")
    assert saved is not None and saved.endswith("/preview.pdf")
    pdf = page.request.get(saved)
    assert pdf.ok and pdf.body().startswith(b"%PDF-"), pdf.status
    assert_fits(page)

    original = source.input_value()
    source.fill(original + "\n// an unsaved edit\n")
    expect(frame).to_have_attribute("src", re.compile(r"^blob:"), timeout=PREVIEW_MS)  # compiled unsaved
    page.screenshot(path=f"{SCREENSHOTS}/ccm-ui-editor-typst-{width}.png", full_page=True)
    source.fill(original + "\n#let broken = (\n")
    note = page.locator('.field-note.preview[data-for="pdf_html"]')
    expect(note).to_contain_text("Typst", timeout=PREVIEW_MS)
    expect(note).to_contain_text(re.compile(r"line \d+"))
    expect(page.locator("form[data-live-preview]")).to_have_attribute("data-preview-state", "failed")
    assert_fits(page)

    source.fill(original)
    expect(note).to_have_count(0, timeout=PREVIEW_MS)
    assert latest_version(live, "invoice-typst") == before  # previews save nothing
