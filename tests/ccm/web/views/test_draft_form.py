"""The draft form beyond the default parts: locale variants and the data schema are shown, saved, previewed
and refused beside the field they concern."""

from __future__ import annotations

import json
import re
from typing import Any

from ccm.access.models import Role
from tests.ccm.conftest import Service
from tests.ccm.web.views.test_editor import OTP_TEXT, latest_version, live, signed_in_form

OTP_SAMPLE = '{"code": "123456", "expires_minutes": 5}'
ITALIAN = "Il tuo codice è {{ code }}."


def api_version(service: Service, number: int, key: str = "otp") -> dict[str, Any]:
    response = service.client.get(
        f"/v1/templates/{key}/versions/{number}", headers=service.headers(Role.MARKETER)
    )
    assert response.status_code == 200, response.text
    detail: dict[str, Any] = response.json()
    return detail


def save_draft(service: Service, fields: dict[str, str], key: str = "otp") -> Any:
    return service.client.post(f"/ui/templates/{key}/versions", data=fields, follow_redirects=False)


def field_note(html: str, name: str) -> str:
    """The saved-form problems shown right after the input `name`."""
    match = re.search(
        f'<ul class="field-note preview" data-source="saved" data-for="{re.escape(name)}"[^>]*>(.*?)</ul>',
        html,
        re.S,
    )
    assert match, f"no note beside {name}"
    return match.group(1)


def test_a_locale_variant_and_a_schema_are_saved_through_the_form(service: Service) -> None:
    fields = signed_in_form(service)
    schema = {"type": "object", "required": ["code"], "properties": {"code": {"type": "string"}}}
    before = latest_version(service)

    response = save_draft(
        service,
        {
            **fields,
            "sms_text": OTP_TEXT,
            "sample_data": OTP_SAMPLE,
            "locale:it:sms_text": ITALIAN,
            "locale:de_CH:sms_text": "",  # all fields empty: the variant overrides nothing and is left out
            "schema": json.dumps(schema),
        },
    )

    assert response.status_code == 303, response.text
    saved = api_version(service, before + 1)
    assert saved["locales"] == {"it": {"sms": {"text": ITALIAN}}}
    assert saved["schema"] == schema
    page = service.client.get(f"/ui/templates/otp?version={before + 1}").text
    assert 'name="locale:it:sms_text"' in page and "Il tuo codice è {{ code }}." in page
    assert '<option value="it">it</option>' in page  # the live preview can be switched to it
    assert "&#34;required&#34;: [" in page  # the schema, pretty-printed in its editor


def test_the_page_shows_a_variant_as_overrides_over_the_default_parts(service: Service) -> None:
    headers = service.headers(Role.MARKETER)
    body = {
        "parts": {"email": {"subject": "Hi", "html": "<p>Hi</p>"}},
        "locales": {"it": {"email": {"subject": "Ciao"}}},
        "schema": False,
    }
    assert (
        service.client.post("/v1/templates/welcome/versions", json=body, headers=headers).status_code == 201
    )
    signed_in_form(service, key="welcome")

    page = service.client.get("/ui/templates/welcome").text

    assert re.search(r'name="locale:it:email_subject" value="Ciao"', page)
    assert re.search(r'<textarea name="locale:it:email_body"[^>]*></textarea>', page)  # falls back
    kind = re.search(r'<select name="locale:it:email_body_kind">(.*?)</select>', page, re.S)
    assert kind and '<option value="html" selected>' in kind.group(1)  # the default part's body language
    assert re.search(
        r'<textarea name="schema"[^>]*>false</textarea>', page
    )  # a version without a schema keeps none


def test_the_saved_draft_keeps_the_variants_of_the_version_it_started_from(service: Service) -> None:
    fields = signed_in_form(service)
    first = {**fields, "sms_text": OTP_TEXT, "sample_data": OTP_SAMPLE, "locale:it:sms_text": ITALIAN}
    assert save_draft(service, first).status_code == 303
    number = latest_version(service)

    # what the page posts for the next draft, Italian unchanged: the variant and the schema stay
    second = {
        **first,
        "sms_text": "Code: {{ code }}",
        "schema": json.dumps(api_version(service, number)["schema"]),
    }
    assert save_draft(service, second).status_code == 303

    saved = api_version(service, number + 1)
    assert saved["locales"] == {"it": {"sms": {"text": ITALIAN}}}
    assert saved["schema"] == api_version(service, number)["schema"]


def test_invalid_schema_json_is_refused_beside_the_schema_field(service: Service) -> None:
    fields = signed_in_form(service)
    before = latest_version(service)

    response = save_draft(
        service, {**fields, "sms_text": OTP_TEXT, "sample_data": OTP_SAMPLE, "schema": '{"type": '}
    )

    assert response.status_code == 422
    assert "not valid JSON" in field_note(response.text, "schema")
    assert re.search(
        r'<textarea name="schema"[^>]*>{&#34;type&#34;: </textarea>', response.text
    )  # kept as typed
    assert latest_version(service) == before


def test_a_schema_that_is_not_json_schema_is_refused_beside_the_schema_field(service: Service) -> None:
    fields = signed_in_form(service)

    bad = '{"type": "object", "required": "code"}'
    response = save_draft(service, {**fields, "sms_text": OTP_TEXT, "sample_data": OTP_SAMPLE, "schema": bad})

    assert response.status_code == 422
    assert "is not of type" in field_note(response.text, "schema")
    preview = live(service, {**fields, "sms_text": OTP_TEXT, "sample_data": OTP_SAMPLE, "schema": bad})
    assert preview.status_code == 422
    assert 'data-input="schema"' in preview.text


def test_a_broken_variant_is_refused_beside_its_field(service: Service) -> None:
    fields = signed_in_form(service)
    body = {**fields, "sms_text": OTP_TEXT, "sample_data": OTP_SAMPLE, "locale:it:sms_text": "Ciao {{ code "}

    saved = save_draft(service, body)
    preview = live(service, body)

    assert saved.status_code == 422
    assert "locales.it.sms.text" in field_note(saved.text, "locale:it:sms_text")
    assert preview.status_code == 422 and 'data-input="locale:it:sms_text"' in preview.text


def test_an_unknown_locale_tag_is_refused_by_name(service: Service) -> None:
    fields = signed_in_form(service)
    body = {**fields, "sms_text": OTP_TEXT, "sample_data": OTP_SAMPLE, "locale:xx-QQ:sms_text": "?"}

    response = save_draft(service, body)

    assert response.status_code == 422
    assert "xx-QQ" in response.text and "not a locale known" in response.text


def test_the_live_preview_renders_the_chosen_locale_of_unsaved_variants(service: Service) -> None:
    fields = signed_in_form(service)
    body = {**fields, "sms_text": OTP_TEXT, "sample_data": OTP_SAMPLE, "locale:it:sms_text": ITALIAN}
    before = latest_version(service)

    default = live(service, body)
    italian = live(service, {**body, "preview_locale": "it"})
    swiss_italian = live(service, {**body, "preview_locale": "it_CH"})  # falls back to it

    assert default.status_code == 200 and "Your code is 123456" in default.text
    assert italian.status_code == 200 and "Il tuo codice è 123456." in italian.text
    assert "Il tuo codice è 123456." in swiss_italian.text
    assert latest_version(service) == before


def test_an_unknown_preview_locale_is_answered_at_the_locale_select(service: Service) -> None:
    fields = signed_in_form(service)

    response = live(
        service, {**fields, "sms_text": OTP_TEXT, "sample_data": OTP_SAMPLE, "preview_locale": "zz"}
    )

    assert response.status_code == 422
    assert 'data-input="preview_locale"' in response.text


def test_lint_reads_the_unsaved_schema_and_names_variant_inputs(service: Service) -> None:
    fields = signed_in_form(service)
    schema = {"type": "object", "properties": {"code": {"type": "string"}}}
    body = {
        **fields,
        "sms_text": "{{ code }}",
        "sample_data": OTP_SAMPLE,
        "locale:it:sms_text": "Codice\n{{ pin }}",
        "schema": json.dumps(schema),
    }

    response = live(service, body, "lint")

    issue = re.search(r'<li [^>]*data-rule="undeclared_variable"[^>]*>', response.text)
    assert issue, response.text
    assert 'data-input="locale:it:sms_text"' in issue.group(0) and 'data-line="2"' in issue.group(0)


def test_an_empty_schema_field_lints_with_the_proposed_schema(service: Service) -> None:
    fields = signed_in_form(service)
    body = {**fields, "sms_text": "{{ code }} {{ pin }}", "sample_data": OTP_SAMPLE, "schema": ""}

    response = live(service, body, "lint")

    assert response.status_code == 200
    assert "undeclared_variable" not in response.text  # the proposal declares pin, as saving would


def test_add_locale_without_scripts_shows_the_form_again_with_its_fieldset(service: Service) -> None:
    fields = signed_in_form(service)
    before = latest_version(service)
    body = {**fields, "sms_text": "Typed {{ code }}", "sample_data": OTP_SAMPLE, "add_locale": "1"}

    added = save_draft(service, {**body, "new_locale": "de_ch"})
    refused = save_draft(service, {**body, "new_locale": "klingon"})

    assert added.status_code == 200
    assert 'name="locale:de-CH:sms_text"' in added.text and "German (Switzerland)" in added.text
    assert "Typed {{ code }}" in added.text  # nothing typed is lost
    assert refused.status_code == 422 and "not a locale tag" in field_note(refused.text, "new_locale")
    assert latest_version(service) == before


def test_a_new_templates_schema_is_saved_or_refused_beside_its_field(service: Service) -> None:
    fields = signed_in_form(service)
    body = {**fields, "key": "note", "name": "Note", "category": "transactional", "sms_text": "Hi {{ name }}"}
    schema = {"type": "object", "properties": {"name": {"type": "string"}}}

    refused = service.client.post("/ui/templates", data={**body, "schema": "[]"}, follow_redirects=False)
    created = service.client.post(
        "/ui/templates", data={**body, "schema": json.dumps(schema)}, follow_redirects=False
    )

    assert refused.status_code == 422
    assert "must be a JSON object" in field_note(refused.text, "schema")
    assert created.status_code == 303, created.text
    assert api_version(service, 1, key="note")["schema"] == schema
