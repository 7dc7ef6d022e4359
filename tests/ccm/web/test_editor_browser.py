"""The template editor in Chromium: typing changes the preview without saving, with the CodeMirror bundle and
without it (plain textareas), errors and lint issues appear beside the field, and nothing leaves the host."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Request, expect

import ccm.web.rendering
from ccm.access.models import Role
from ccm.web.rendering import EDITOR_BUNDLE
from tests.ccm.web.conftest import LiveService
from tests.ccm.web.test_browser import SCREENSHOTS, browser_sign_in

pytestmark = pytest.mark.browser
CURLY_APOSTROPHE = "\u2019"
"""Not in GSM 03.38: one of it makes an SMS UCS-2."""
BESIDE_ITS_FIELD = """note => {
    let before = note.previousElementSibling;
    while (before && before.classList.contains("field-note")) before = before.previousElementSibling;
    return before.contains(document.querySelector(`[name="${note.dataset.for}"]`));
}"""
"""Whether a note follows the label of the field it is about (other notes aside)."""
NETWORK_SCHEMES = ("http", "https", "ws", "wss")
"""Requests that could leave the machine (not data:, blob:, nor Chromium's own chrome:// PDF viewer)."""


@pytest.fixture
def requests_seen(page: Page) -> list[str]:
    """Every URL the page requested, to prove the editor loads nothing from another host."""
    seen: list[str] = []

    def record(request: Request) -> None:
        seen.append(request.url)

    page.on("request", record)
    return seen


def foreign(urls: list[str], base_url: str) -> list[str]:
    origin = urlsplit(base_url)
    parsed = [(url, urlsplit(url)) for url in urls]
    return [url for url, parts in parsed if parts.scheme in NETWORK_SCHEMES and parts.netloc != origin.netloc]


def latest_version(live: LiveService, key: str) -> int:
    with live.api(Role.MARKETER) as api:
        number: int = api.get(f"/v1/templates/{key}").json()["latest_version"]
        return number


def code_editor(page: Page, name: str) -> str:
    return f'.cm-editor[data-for="{name}"] .cm-content'


@pytest.fixture
def without_bundle(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """As on a machine without Node: the page finds no bundle and keeps its textareas."""
    monkeypatch.setattr(ccm.web.rendering, "EDITOR_BUNDLE", tmp_path / "missing" / "editor.js")


@pytest.mark.skipif(not EDITOR_BUNDLE.is_file(), reason="the editor bundle is not built (`make editor`)")
def test_typing_in_the_code_editor_changes_the_preview_without_saving(
    page: Page, live: LiveService, requests_seen: list[str]
) -> None:
    before = latest_version(live, "invoice")
    browser_sign_in(page, live, Role.MARKETER)
    page.goto("/ui/templates/invoice", wait_until="domcontentloaded")
    expect(page.locator("html")).to_have_attribute("data-code-editor", "codemirror")
    expect(page.locator(code_editor(page, "sms_text"))).to_be_visible()
    expect(page.locator(".cm-editor .cm-lineNumbers").first).to_be_visible()
    expect(page.locator("textarea[name=sms_text]")).to_be_hidden()
    expect(page.locator("#preview-sms .sms-bubble")).not_to_contain_text("Grazie")

    page.click(code_editor(page, "sms_text"))
    page.keyboard.press("Control+End")
    page.keyboard.type(" Grazie!")

    expect(page.locator("#preview-sms .sms-bubble")).to_contain_text("Grazie!")
    expect(page.locator("#live-preview")).to_contain_text("Unsaved changes")
    assert "Grazie!" in page.locator("textarea[name=sms_text]").input_value()  # the form posts as before
    expect(page.locator("#preview-pdf iframe.pdf")).to_have_attribute("src", re.compile(r"^blob:"))
    assert latest_version(live, "invoice") == before

    page.click(code_editor(page, "email_body"))
    page.keyboard.press("Control+A")
    page.keyboard.insert_text("<p>Live edit for {{ customer.first_name }}</p>")
    page.select_option("select[name=email_body_kind]", "html")
    page.fill("input[name=email_subject]", "Typed, not saved")
    expect(page.locator("#preview-email .subject")).to_have_text("Typed, not saved")
    expect(page.frame_locator("#preview-email iframe").locator("body")).to_contain_text("Live edit for")
    page.screenshot(path=f"{SCREENSHOTS}/ccm-ui-editor.png", full_page=True)

    assert latest_version(live, "invoice") == before
    assert foreign(requests_seen, live.base_url) == []


def test_without_the_bundle_textareas_get_the_same_live_preview(
    page: Page, live: LiveService, requests_seen: list[str], without_bundle: None
) -> None:
    before = latest_version(live, "otp")
    browser_sign_in(page, live, Role.MARKETER)
    page.goto("/ui/templates/otp", wait_until="domcontentloaded")
    expect(page.locator("script[type=module]")).to_have_count(0)
    textarea = page.locator("textarea[name=sms_text]")
    expect(textarea).to_be_visible()
    expect(page.locator(".cm-editor")).to_have_count(0)

    textarea.fill("Il tuo codice è {{ code }}.")
    expect(page.locator("#preview-sms .sms-bubble")).to_have_text("Il tuo codice è 482913.")
    expect(page.locator("#preview-sms .sms-encoding")).to_have_text("GSM-7")

    textarea.fill(f"It{CURLY_APOSTROPHE}s {{{{ code }}}}.")
    expect(page.locator("#preview-sms .sms-encoding")).to_have_text("UCS-2")
    expect(page.locator("#preview-sms .sms-ucs2")).to_contain_text("U+2019 at character 3")
    lint = page.locator('.field-note.lint[data-for="sms_text"]')
    expect(lint).to_contain_text(CURLY_APOSTROPHE)  # the lint names the character, beside the field

    textarea.fill("Hello\n{{ code ")
    note = page.locator('.field-note.preview[data-for="sms_text"]')
    expect(note).to_contain_text("line 2")
    expect(page.locator("form[data-live-preview]")).to_have_attribute("data-preview-state", "failed")
    assert note.evaluate(BESIDE_ITS_FIELD)

    textarea.fill("Back to {{ code }}")
    expect(page.locator("#preview-sms .sms-bubble")).to_have_text("Back to 482913")
    expect(note).to_have_count(0)
    assert latest_version(live, "otp") == before
    assert foreign(requests_seen, live.base_url) == []


def test_an_added_locale_variant_is_previewed_without_saving(
    page: Page, live: LiveService, requests_seen: list[str], without_bundle: None
) -> None:
    before = latest_version(live, "otp")
    browser_sign_in(page, live, Role.MARKETER)
    page.goto("/ui/templates/otp", wait_until="domcontentloaded")
    expect(page.locator("#preview-sms .sms-bubble")).to_contain_text("Your code is 482913")

    page.fill("input[name=new_locale]", "it")
    page.click("button[name=add_locale]")
    italian = page.locator('textarea[name="locale:it:sms_text"]')
    expect(italian).to_be_visible()
    expect(page.locator('.locale-variant[data-locale="it"] summary')).to_contain_text("it")
    italian.fill("Il tuo codice è {{ code }}.")
    expect(page.locator("#preview-sms .sms-bubble")).to_contain_text("Your code is 482913")  # default locale

    page.select_option("select[name=preview_locale]", "it")
    expect(page.locator("#preview-sms .sms-bubble")).to_have_text("Il tuo codice è 482913.")
    expect(page.locator("#live-preview")).to_contain_text("locale it")
    page.screenshot(path=f"{SCREENSHOTS}/ccm-ui-editor-locale.png", full_page=True)

    italian.fill("Ciao\n{{ code ")
    note = page.locator('.field-note.preview[data-for="locale:it:sms_text"]')
    expect(note).to_contain_text("line 2")  # the variant's error, beside the variant's field
    assert note.evaluate(BESIDE_ITS_FIELD)

    assert page.url.endswith("/ui/templates/otp")  # nothing was posted to save or reload the page
    assert latest_version(live, "otp") == before
    assert foreign(requests_seen, live.base_url) == []
