"""The editor's live preview and lint of unsaved content: server-rendered partials, errors naming the input
they concern, nothing saved, and only for writers with the form's CSRF token."""

from __future__ import annotations

import re
from typing import Any

from ccm.access.models import Role
from tests.ccm.conftest import Service
from tests.ccm.web.conftest import csrf_of, sign_in

CURLY_APOSTROPHE = "\u2019"
"""Not in GSM 03.38: one of it makes an SMS UCS-2."""
OTP_TEXT = "Your code is {{ code }}. It expires in {{ expires_minutes }} minutes."


def signed_in_form(service: Service, role: Role = Role.MARKETER, key: str = "otp") -> dict[str, str]:
    """Sign the test client in and return the draft form's hidden fields, as the page posts them."""
    sign_in(service.client, service.keys[role])
    page = service.client.get(f"/ui/templates/{key}")
    assert page.status_code == 200
    return {"csrf_token": csrf_of(page.text)}


def live(service: Service, fields: dict[str, Any], what: str = "preview", key: str = "otp") -> Any:
    return service.client.post(f"/ui/templates/{key}/{what}", data=fields)


def latest_version(service: Service, key: str = "otp") -> int:
    detail = service.client.get(f"/v1/templates/{key}", headers=service.headers(Role.MARKETER))
    number: int = detail.json()["latest_version"]
    return number


def test_unsaved_sms_text_is_previewed_without_saving(service: Service) -> None:
    fields = signed_in_form(service)
    before = latest_version(service)
    sample = '{"code": "123456", "expires_minutes": 5}'

    response = live(service, {**fields, "sms_text": "Ciao! " + OTP_TEXT, "sample_data": sample})

    assert response.status_code == 200, response.text
    assert "Ciao! Your code is 123456. It expires in 5 minutes." in response.text
    assert '<span class="sms-encoding">GSM-7</span>' in response.text
    assert "Unsaved changes" in response.text and "<html" not in response.text  # a fragment, not a page
    assert latest_version(service) == before


def test_the_characters_that_force_ucs2_are_named(service: Service) -> None:
    fields = signed_in_form(service)

    text = f"It{CURLY_APOSTROPHE}s {{{{ code }}}}"
    response = live(service, {**fields, "sms_text": text, "sample_data": '{"code": "1"}'})

    assert response.status_code == 200, response.text
    assert '<span class="sms-encoding">UCS-2</span>' in response.text
    assert re.search(f"<code>{CURLY_APOSTROPHE}</code> U\\+2019 at character 3", response.text), response.text


def test_a_template_error_is_answered_at_its_field_and_line(service: Service) -> None:
    fields = signed_in_form(service)

    response = live(service, {**fields, "sms_text": "Hello\n{{ code ", "sample_data": '{"code": "1"}'})

    assert response.status_code == 422
    assert 'data-input="sms_text"' in response.text
    assert 'data-line="2"' in response.text


def test_a_missing_part_field_is_answered_at_that_input(service: Service) -> None:
    fields = signed_in_form(service, key="welcome")

    response = live(service, {**fields, "email_body": "<p>Hi</p>", "email_body_kind": "html"}, key="welcome")

    assert response.status_code == 422
    assert 'data-input="email_subject"' in response.text  # parts.email.subject: Field required


def test_sample_data_that_is_not_json_is_answered_at_the_sample_data(service: Service) -> None:
    fields = signed_in_form(service)

    response = live(service, {**fields, "sms_text": OTP_TEXT, "sample_data": '{"code": '})

    assert response.status_code == 422
    assert 'data-input="sample_data"' in response.text
    assert "not valid JSON" in response.text


def test_an_unsaved_pdf_travels_inline_for_the_page_to_frame(service: Service) -> None:
    fields = signed_in_form(service, key="statement")
    page = service.client.get("/ui/templates/statement").text
    pdf_html = re.search(r'<textarea name="pdf_html"[^>]*>(.*?)</textarea>', page, re.S)
    sample = re.search(r'<textarea name="sample_data"[^>]*>(.*?)</textarea>', page, re.S)
    assert pdf_html and sample
    unescape = {"&lt;": "<", "&gt;": ">", "&#34;": '"', "&#39;": "'", "&amp;": "&"}
    source, data = pdf_html.group(1), sample.group(1)
    for entity, char in unescape.items():
        source, data = source.replace(entity, char), data.replace(entity, char)

    response = live(service, {**fields, "pdf_html": source, "sample_data": data}, key="statement")

    assert response.status_code == 200, response.text
    assert 'data-pdf-base64="JVBERi0' in response.text  # base64 of "%PDF-"
    assert "preview.pdf" not in response.text


def test_lint_names_the_input_and_line_of_each_issue(service: Service) -> None:
    fields = signed_in_form(service, key="welcome")
    body = '<p>Hi</p>\n<img src="https://example.com/a.png">\n<a href="http://example.com/">x</a>'

    response = live(
        service,
        {**fields, "email_subject": "Hi", "email_body": body, "email_body_kind": "html"},
        "lint",
        key="welcome",
    )

    assert response.status_code == 200, response.text
    image = re.search(r'<li [^>]*data-rule="image_alt"[^>]*>', response.text)
    link = re.search(r'<li [^>]*data-rule="insecure_link"[^>]*>', response.text)
    assert image and 'data-input="email_body"' in image.group(0) and 'data-line="2"' in image.group(0)
    assert link and 'data-line="3"' in link.group(0)


def test_clean_content_lints_clean(service: Service) -> None:
    fields = signed_in_form(service)

    sample = '{"code": "1", "expires_minutes": 5}'
    response = live(service, {**fields, "sms_text": OTP_TEXT, "sample_data": sample}, "lint")

    assert response.status_code == 200
    assert "Lint: no issues." in response.text


def test_live_preview_needs_the_form_token_and_templates_write(service: Service) -> None:
    fields = signed_in_form(service, Role.SENDER)
    refused = live(service, {**fields, "sms_text": OTP_TEXT})
    assert refused.status_code == 403 and "templates:write" in refused.text

    fields = signed_in_form(service, Role.MARKETER)
    forged = live(service, {"csrf_token": "0" * 64, "sms_text": OTP_TEXT})
    assert forged.status_code == 403 and "security token" in forged.text
    assert live(service, {**fields, "sms_text": OTP_TEXT}, "lint").status_code == 200


def test_lint_reads_the_schema_of_the_version_the_draft_starts_from(service: Service) -> None:
    fields = signed_in_form(service)
    sample = '{"code": "1", "expires_minutes": 5, "pin": "9"}'

    response = live(
        service,
        {**fields, "version": "1", "sms_text": "{{ code }}\n{{ pin }}", "sample_data": sample},
        "lint",
    )

    issue = re.search(r'<li [^>]*data-rule="undeclared_variable"[^>]*>', response.text)
    assert issue, response.text  # otp's schema declares code and expires_minutes, not pin
    assert 'data-input="sms_text"' in issue.group(0) and 'data-line="2"' in issue.group(0)


def test_lint_waits_for_content_that_cannot_be_read(service: Service) -> None:
    fields = signed_in_form(service)

    response = live(service, {**fields, "sms_text": "{{ code ", "sample_data": "{}"}, "lint")

    assert response.status_code == 200
    assert "Lint waits until the content can be read" in response.text
