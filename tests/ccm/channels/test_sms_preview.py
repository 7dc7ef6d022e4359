"""The SMS preview names the characters that forced UCS-2, so an author can replace them."""

from __future__ import annotations

from ccm.access.models import Role
from tests.ccm.conftest import Service

CURLY_APOSTROPHE = "\u2019"


def test_the_preview_names_each_character_that_forced_ucs2(service: Service) -> None:
    text = f"It{CURLY_APOSTROPHE}s {{{{ code }}}}{CURLY_APOSTROPHE}"
    body = {"parts": {"sms": {"text": text}}, "data": {"code": "42"}}

    preview = service.client.post(
        "/v1/templates/otp/preview", json=body, headers=service.headers(Role.MARKETER)
    )

    assert preview.status_code == 200, preview.text
    sms = preview.json()["sms"]
    assert (sms["text"], sms["encoding"]) == (f"It{CURLY_APOSTROPHE}s 42{CURLY_APOSTROPHE}", "UCS-2")
    assert sms["ucs2_characters"] == [{"character": CURLY_APOSTROPHE, "codepoint": "U+2019", "position": 3}]


def test_a_gsm_message_names_none(service: Service) -> None:
    preview = service.client.post(
        "/v1/templates/otp/preview", json={}, headers=service.headers(Role.MARKETER)
    )

    assert preview.json()["sms"]["encoding"] == "GSM-7"
    assert preview.json()["sms"]["ucs2_characters"] == []


def test_the_openapi_document_shows_the_shape_inline(service: Service) -> None:
    document = service.client.get("/openapi.json").json()
    sms = document["components"]["schemas"]["PreviewResponse"]["properties"]["sms"]

    assert "#/$defs/" not in str(document)  # a nested shape's reference would point nowhere
    assert set(sms["properties"]["ucs2_characters"]["items"]["properties"]) == {
        "character",
        "codepoint",
        "position",
    }
