"""The editor's live preview: `POST /v1/templates/{key}/preview` renders unsaved parts and locales, checked
as a new version's would be and bounded by the render pool like any render, and saves nothing."""

from __future__ import annotations

from typing import Any

import pytest

from ccm.access.models import Role
from tests.ccm.conftest import Service, ServiceFactory

BURN = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}x"


def preview(service: Service, body: dict[str, Any], key: str = "otp") -> Any:
    return service.client.post(
        f"/v1/templates/{key}/preview", json=body, headers=service.headers(Role.MARKETER)
    )


def test_unsaved_parts_are_rendered_instead_of_the_saved_version_and_nothing_is_saved(
    service: Service,
) -> None:
    unsaved = {"sms": {"text": "Draft: {{ code }} ({{ expires_minutes }} min)"}}

    response = preview(service, {"parts": unsaved})

    assert response.status_code == 200, response.text
    assert response.json()["sms"]["text"] == "Draft: 482913 (10 min)"
    assert response.json()["version"] == 1
    template = service.client.get("/v1/templates/otp", headers=service.headers()).json()
    assert template["latest_version"] == 1
    assert "Draft" not in template["latest"]["parts"]["sms"]["text"]


def test_unsaved_locales_are_picked_by_the_preview_locale(service: Service) -> None:
    locales = {"it_CH": {"sms": {"text": "Codice {{ code }}"}}}

    swiss = preview(service, {"locales": locales, "locale": "it_CH"})
    english = preview(service, {"locales": locales, "locale": "en"})

    assert swiss.status_code == 200, swiss.text
    assert swiss.json()["sms"]["text"] == "Codice 482913"
    assert english.json()["sms"]["text"] != "Codice 482913"


def test_unsaved_parts_and_locales_together(service: Service) -> None:
    body = {
        "parts": {"sms": {"text": "Hi {{ code }}"}},
        "locales": {"de": {"sms": {"text": "Hallo {{ code }}"}}},
    }

    assert preview(service, {**body, "locale": "de_CH"}).json()["sms"]["text"] == "Hallo 482913"
    assert preview(service, {**body, "locale": "fr"}).json()["sms"]["text"] == "Hi 482913"


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"parts": {"sms": {"text": "{% for %}"}}}, "template_invalid", "parts.sms.text"),
        ({"parts": {"fax": {"text": "x"}}}, "unknown_channel", "parts"),
        ({"parts": {}}, "invalid", "parts"),
        ({"locales": {"klingon-XX": {"sms": {"text": "x"}}}}, "invalid_locale", "locales"),
        ({"locales": {"it": {"sms": {"text": "a"}}, "IT": {"sms": {"text": "b"}}}}, "duplicate_locale",
         "locales"),
        ({"locales": {"it": {"email": {"subject": "x"}}}}, "channel_not_in_template", "locales.it.email"),
        ({"parts": {"sms": {"text": "{{ code }}"}}, "locales": {"it": {"sms": {"text": "{{"}}}},
         "template_invalid", "locales.it.sms.text"),
    ],
)  # fmt: skip
def test_unsaved_content_is_checked_as_a_new_version_is(
    service: Service, body: dict[str, Any], code: str, field: str
) -> None:
    response = preview(service, body)

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["field"]) == (code, field)


def test_an_unsaved_part_that_burns_is_stopped_by_the_render_pool(service_factory: ServiceFactory) -> None:
    bounded = service_factory(render_cpu_seconds=1.5, render_memory_mb=256)

    response = preview(bounded, {"parts": {"sms": {"text": BURN}}})

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["limit"]) == ("render_limit", "cpu")
    assert preview(bounded, {}).status_code == 200  # the next render gets a fresh process
