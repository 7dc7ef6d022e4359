"""The UI's pure parts: CSRF, the `next` check, the authoring form, .eml parsing.

Sessions live in the database now: their expiry, what opens them and signing out are proved in
`tests/ccm/access/test_sessions.py`, and over HTTP in `tests/ccm/web/test_session.py`.
"""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from ccm.web.auth import safe_next
from ccm.web.forms import FormErrors, PartsForm, input_for_field
from ccm.web.payloads import canonical_uuid, email_attachment, parse_email, parse_sms
from ccm.web.session import csrf_matches, csrf_token


def test_csrf_tokens_are_bound_to_the_session() -> None:
    token = csrf_token("secret", "session-a")
    assert csrf_matches("secret", "session-a", token)
    assert not csrf_matches("secret", "session-b", token)
    assert not csrf_matches("secret", "session-a", "")
    assert not csrf_matches("other-secret", "session-a", token)
    assert not csrf_matches("secret", "login:session-a", token)  # the sign-in form's token is another


@pytest.mark.parametrize("candidate", ["/ui", "/ui/templates", "/ui/customers/c-1?before=3"])
def test_local_ui_paths_are_safe(candidate: str) -> None:
    assert safe_next(candidate) == candidate


@pytest.mark.parametrize(
    "candidate",
    [
        None,
        "",
        "/",
        "/v1/templates",
        "/uix",
        "//ui",
        "https://evil.test/ui",
        "/ui\\x",
        "/ui/../v1",
        "/ui/\r\nx",
    ],
)
def test_anything_else_is_not(candidate: str | None) -> None:
    assert safe_next(candidate) is None


def test_the_form_round_trips_a_version() -> None:
    parts = {
        "email": {"subject": "Hi", "mjml": "<mjml></mjml>", "attach_pdf": True},
        "pdf": {"html": "<p>x</p>", "css": "p {}"},
    }
    form = PartsForm.from_version(parts, {"a": 1})
    assert form.version_request().model_dump(exclude_none=True)["parts"] == parts
    assert form.version_request().sample_data == {"a": 1}


def test_form_errors_name_the_field() -> None:
    with pytest.raises(FormErrors) as raised:
        PartsForm(
            {"email_subject": "Hi", "email_body": "<p/>", "email_body_kind": "html", "email_attach_pdf": True}
        ).version_request()
    assert raised.value.messages == ["parts: email.attach_pdf needs a 'pdf' part to attach"]


def test_emails_parse_into_headers_bodies_and_attachments() -> None:
    message = EmailMessage()
    message["Subject"] = "Grüße"
    message["List-Unsubscribe"] = "<https://ccm.test/u/x>"
    message.set_content("text body")
    message.add_alternative("<p>html body</p>", subtype="html")
    message.add_attachment(b"%PDF-1.7", maintype="application", subtype="pdf", filename="a.pdf")
    view = parse_email(message.as_bytes())
    assert view.subject == "Grüße"
    assert ("List-Unsubscribe", "<https://ccm.test/u/x>") in view.headers
    assert view.html is not None and "html body" in view.html
    assert view.text == "text body\n"
    assert [(a.filename, a.is_pdf, a.size) for a in view.attachments] == [("a.pdf", True, 8)]
    found = email_attachment(message.as_bytes(), 0)
    assert found is not None and found[1] == b"%PDF-1.7"
    assert email_attachment(message.as_bytes(), 1) is None


def test_malformed_sms_payloads_still_show() -> None:
    assert parse_sms(b"not json").body == "not json"
    assert parse_sms(b'{"body": "hi", "segments": "x"}').segments is None


def test_only_canonical_uuids_are_message_ids() -> None:
    value = "c53e80a5-1c61-4d0d-af56-311b022883f6"
    assert canonical_uuid(value) == value
    assert canonical_uuid(value.upper()) is None
    assert canonical_uuid("{" + value + "}") is None
    assert canonical_uuid("../../etc/passwd") is None


@pytest.mark.parametrize(
    ("api_field", "form_input"),
    [
        ("parts.email.html", "email_body"),
        ("email.mjml", "email_body"),
        ("parts.email.subject", "email_subject"),
        ("sms.text", "sms_text"),
        ("sms", "sms_text"),
        ("pdf.css", "pdf_css"),
        ("data.invoice.number", "sample_data"),
        ("parts.email", None),
        ("parts", None),
        ("locale", "preview_locale"),  # the locale the live preview renders in
        ("schema", "schema"),
        ("locales.it.sms.text", "locale:it:sms_text"),
        ("locales.de-CH.email.html", "locale:de-CH:email_body"),
        ("locales.it", "locale:it"),  # the variant's fieldset
        ("locales", None),
        (None, None),
    ],
)
def test_api_error_fields_map_to_the_form_input_they_concern(
    api_field: str | None, form_input: str | None
) -> None:
    assert input_for_field(api_field) == form_input
