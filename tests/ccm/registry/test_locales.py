"""Locale variants of a version's parts: keys normalised, refused when they could not be sent, picked by the
customer's locale with the fallback `it-CH` -> `it` -> default at send time, in previews and at publish."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ccm.access.models import Role
from ccm.registry.locales import locale_chain, localised_parts, normalise_locale_tag
from tests.ccm.conftest import Service, ServiceFactory

GREETING_MJML = (
    "<mjml><mj-body><mj-section><mj-column><mj-text>{{ greeting_body }}</mj-text></mj-column></mj-section>"
    "</mj-body></mjml>"
)


def greeting(**extra: Any) -> dict[str, Any]:
    """A transactional template with an English SMS and email, an Italian SMS and a Swiss-Italian one."""
    body: dict[str, Any] = {
        "key": "greeting",
        "name": "Greeting",
        "category": "transactional",
        "parts": {
            "sms": {"text": "Hello {{ customer.first_name }}, order {{ order }}"},
            "email": {"subject": "Order {{ order }}", "html": "<p>Body {{ order }}</p>"},
        },
        "locales": {
            "it": {"sms": {"text": "Ciao {{ customer.first_name }}, ordine {{ order }}"}},
            "it_ch": {"sms": {"text": "Salve {{ customer.first_name }}, ordine {{ order }}"}},
            "de": {"email": {"subject": "Bestellung {{ order }}"}},
        },
        "sample_data": {"order": "A-1"},
    }
    body.update(extra)
    return body


def create(service: Service, body: dict[str, Any]) -> Any:
    return service.client.post("/v1/templates", json=body, headers=service.headers(Role.MARKETER))


def error_of(response: Any) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return error


def test_locale_keys_are_normalised_to_bcp47_and_returned_beside_the_parts(service: Service) -> None:
    created = create(service, greeting())

    assert created.status_code == 201, created.text
    latest = created.json()["latest"]
    assert sorted(latest["locales"]) == ["de", "it", "it-CH"]
    assert latest["locales"]["it-CH"] == {
        "sms": {"text": "Salve {{ customer.first_name }}, ordine {{ order }}"}
    }
    version = service.client.get("/v1/templates/greeting/versions/1", headers=service.headers()).json()
    assert version["locales"] == latest["locales"]


def test_the_checksum_covers_the_locales(service: Service) -> None:
    first = create(service, greeting()).json()["latest"]
    changed = {"parts": greeting()["parts"], "sample_data": {"order": "A-1"}, "locales": {"it": {}}}
    second = service.client.post(
        "/v1/templates/greeting/versions", json=changed, headers=service.headers(Role.MARKETER)
    )
    assert second.status_code == 201, second.text
    assert second.json()["checksum"] != first["checksum"]


@pytest.mark.parametrize("key", ["english", "de-CHE", "zz", "it-", "de_CH_x", "1t"])
def test_a_key_that_is_not_a_language_region_tag_is_invalid_locale(service: Service, key: str) -> None:
    response = create(service, greeting(locales={key: {"sms": {"text": "x"}}}))

    assert response.status_code == 422, response.text
    assert error_of(response)["code"] == "invalid_locale"
    assert repr(key) in error_of(response)["message"]


def test_two_keys_of_one_locale_are_duplicate_locale(service: Service) -> None:
    variants = {"de-CH": {"sms": {"text": "a"}}, "de_CH": {"sms": {"text": "b"}}}

    response = create(service, greeting(locales=variants))

    assert response.status_code == 422, response.text
    assert error_of(response)["code"] == "duplicate_locale"
    assert "'de-CH'" in error_of(response)["message"]


@pytest.mark.parametrize(
    ("variant", "code", "field"),
    [
        ({"pdf": {"html": "<p>x</p>"}}, "channel_not_in_template", "locales.it.pdf"),
        ({"fax": {"text": "x"}}, "unknown_channel", "locales"),
        ({"sms": {"body": "x"}}, "invalid", "locales.it.sms.body"),
        ({"sms": {"text": 5}}, "invalid", "locales.it.sms.text"),
        ({"sms": {"text": "{% if %}"}}, "template_invalid", "locales.it.sms.text"),
        ({"email": {"mjml": GREETING_MJML}}, "invalid", "locales.it.email"),  # two bodies once merged
        ({"sms": "text"}, "invalid", "locales"),
    ],
)
def test_a_variant_the_version_could_not_send_is_refused(
    service: Service, variant: dict[str, Any], code: str, field: str
) -> None:
    response = create(service, greeting(locales={"it": variant}))

    assert response.status_code == 422, response.text
    assert (error_of(response)["code"], error_of(response)["field"]) == (code, field)


def test_a_variant_may_swap_a_field_for_another_by_nulling_the_default(service: Service) -> None:
    swapped = {"it": {"email": {"html": None, "mjml": GREETING_MJML}}}

    created = create(
        service, greeting(locales=swapped, sample_data={"order": "A-1", "greeting_body": "Ciao"})
    )

    assert created.status_code == 201, created.text
    preview = service.client.post(
        "/v1/templates/greeting/preview", json={"locale": "it"}, headers=service.headers(Role.MARKETER)
    )
    assert preview.status_code == 200, preview.text
    assert "Ciao" in preview.json()["email"]["html"] and "Body" not in preview.json()["email"]["html"]


def test_the_fallback_chain_of_a_locale() -> None:
    assert locale_chain("it_CH") == ["it-CH", "it"]
    assert locale_chain("de-ch") == ["de-CH", "de"]
    assert locale_chain("zh_Hans_CN") == ["zh-Hans-CN", "zh-Hans", "zh"]
    assert locale_chain(None) == []
    assert normalise_locale_tag("DE_ch") == "de-CH"
    assert normalise_locale_tag("es-419") == "es-419"


def test_variants_lay_their_fields_over_the_defaults_from_the_least_specific() -> None:
    parts = {"email": {"subject": "Hi", "html": "<p>Body</p>"}, "sms": {"text": "Hi"}}
    locales = {
        "it": {"email": {"subject": "Ciao"}, "sms": {"text": "Ciao"}},
        "it-CH": {"sms": {"text": "Salve"}},
    }

    swiss = localised_parts(parts, locales, "it_CH")

    assert swiss == {"email": {"subject": "Ciao", "html": "<p>Body</p>"}, "sms": {"text": "Salve"}}
    assert localised_parts(parts, locales, "fr") == parts


def add_customer(service: Service, external_id: str, locale: str) -> None:
    body = {"phone": "+41791234567", "email": f"{external_id}@example.com", "locale": locale}
    body["attributes"] = {"first_name": external_id.title()}  # type: ignore[assignment]
    response = service.client.put(f"/v1/customers/{external_id}", json=body, headers=service.headers())
    assert response.status_code in (200, 201), response.text


def sent(service: Service, customer_id: str, channel: str) -> str:
    body = {
        "template": "greeting",
        "customer_id": customer_id,
        "data": {"order": "B-2"},
        "channels": [channel],
    }
    response = service.send(body, key=f"{customer_id}-{channel}")
    assert response.status_code == 202, response.text
    return str(response.json()["messages"][0]["id"])


def test_the_customers_locale_picks_the_variant_at_send_time_falling_back_it_ch_it_default(
    service: Service,
) -> None:
    assert create(service, greeting()).status_code == 201
    published = service.client.post(
        "/v1/templates/greeting/versions/1/publish", headers=service.headers(Role.MARKETER)
    )
    assert published.status_code == 200, published.text
    for external_id, locale in [("swiss", "it_CH"), ("roman", "it_IT"), ("plain", "it"), ("french", "fr")]:
        add_customer(service, external_id, locale)
    sms = {
        external_id: sent(service, external_id, "sms")
        for external_id in ("swiss", "roman", "plain", "french")
    }
    email_id = sent(service, "plain", "email")  # no Italian email variant: the default email
    service.work()

    def body_of(message_id: str) -> str:
        return str(json.loads((service.settings.outbox_dir / f"{message_id}.json").read_text())["body"])

    assert body_of(sms["swiss"]) == "Salve Swiss, ordine B-2"
    assert body_of(sms["roman"]) == "Ciao Roman, ordine B-2"
    assert body_of(sms["plain"]) == "Ciao Plain, ordine B-2"
    assert body_of(sms["french"]) == "Hello French, order B-2"
    eml = (service.settings.outbox_dir / f"{email_id}.eml").read_text()
    assert "Subject: Order B-2" in eml


def test_the_send_time_check_renders_the_variant_the_customer_receives(service: Service) -> None:
    """Without a schema, only the render check stands between bad data and a send: it renders the
    customer's variant, so what the Italian text needs is required of Italian customers alone."""
    variants = {"it": {"sms": {"text": "Ciao {{ nickname }}, ordine {{ order }}"}}}
    body = greeting(locales=variants, schema=False, sample_data={"order": "A-1", "nickname": "Ada"})
    assert create(service, body).status_code == 201
    published = service.client.post("/v1/templates/greeting/versions/1/publish", headers=service.headers())
    assert published.status_code == 200, published.text
    add_customer(service, "roman", "it_IT")
    add_customer(service, "french", "fr")

    italian = service.send({"template": "greeting", "customer_id": "roman", "data": {"order": "B-2"}})
    french = service.send({"template": "greeting", "customer_id": "french", "data": {"order": "B-2"}})

    assert italian.status_code == 422, italian.text
    assert (error_of(italian)["code"], error_of(italian)["field"]) == ("missing_variable", "data.nickname")
    assert french.status_code == 202, french.text


@pytest.mark.parametrize(
    ("locale", "text"),
    [("it_CH", "Salve Ada, ordine A-1"), ("it", "Ciao Ada, ordine A-1"), ("de", "Hello Ada, order A-1")],
)
def test_preview_picks_the_variant_of_its_locale(service: Service, locale: str, text: str) -> None:
    assert create(service, greeting()).status_code == 201

    response = service.client.post(
        "/v1/templates/greeting/preview", json={"locale": locale}, headers=service.headers(Role.MARKETER)
    )

    assert response.status_code == 200, response.text
    assert response.json()["sms"]["text"] == text
    subject = "Bestellung A-1" if locale == "de" else "Order A-1"
    assert response.json()["email"]["subject"] == subject


def test_publishing_renders_every_channel_in_every_locale_and_names_the_broken_variant(
    service: Service,
) -> None:
    broken = greeting(locales={"it": {"sms": {"text": "Ciao {{ order.missing.deeper }}"}}}, schema=False)
    assert create(service, broken).status_code == 201

    refused = service.client.post(
        "/v1/templates/greeting/versions/1/publish", headers=service.headers(Role.MARKETER)
    )

    assert refused.status_code == 422, refused.text
    error = error_of(refused)
    assert error["locale"] == "it" and "locale it" in error["message"]
    detail = service.client.get("/v1/templates/greeting", headers=service.headers()).json()
    assert detail["published_version"] is None

    fixed = {"parts": broken["parts"], "sample_data": broken["sample_data"], "locales": greeting()["locales"]}
    saved = service.client.post("/v1/templates/greeting/versions", json=fixed, headers=service.headers())
    assert saved.status_code == 201, saved.text
    published = service.client.post("/v1/templates/greeting/versions/2/publish", headers=service.headers())
    assert published.status_code == 200, published.text


def test_a_version_that_burns_with_its_sample_data_is_not_published(service_factory: ServiceFactory) -> None:
    bounded = service_factory(render_cpu_seconds=1.5, render_memory_mb=256)
    burn = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}x"
    assert create(bounded, greeting(locales={"de": {"sms": {"text": burn}}})).status_code == 201

    refused = bounded.client.post("/v1/templates/greeting/versions/1/publish", headers=bounded.headers())

    assert refused.status_code == 422, refused.text
    error = error_of(refused)
    assert (error["code"], error["limit"], error["locale"]) == ("render_limit", "cpu", "de")
    assert error["field"] == "locales.de.sms.text"
