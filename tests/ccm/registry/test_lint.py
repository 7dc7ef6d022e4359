"""Lint: every rule found and not found, locale variants, and `POST /v1/templates/{key}/lint`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ccm.access.models import Role
from ccm.registry.lint import RULES, LintContent, LintIssue, LintLimits, run_rules, subjects_of
from renderers.email import RenderedEmail
from renderers.errors import RenderError
from renderers.sms import RenderedSms
from tests.ccm.conftest import Service

ASSETS = Path(__file__).resolve().parents[3] / "templates" / "_assets"
LIMITS = LintLimits(assets_dir=ASSETS, sms_segments=2)


def issues_of(
    parts: dict[str, Any],
    *,
    locales: dict[str, Any] | None = None,
    schema: dict[str, Any] | None = None,
    category: str = "transactional",
    samples: dict[str | None, dict[str, Any]] | None = None,
    rule: str | None = None,
) -> list[LintIssue]:
    """The rules run over content without rendering: `samples` stand in for the sample renders."""
    content = LintContent(parts, locales or {}, schema, category, {})
    found = run_rules(subjects_of(content, LIMITS, samples or {}))
    return [issue for issue in found if rule is None or issue.rule == rule]


def test_every_rule_is_registered_once_with_a_severity() -> None:
    names = [rule.name for rule in RULES]
    assert len(names) == len(set(names))
    assert {rule.severity for rule in RULES} == {"error", "warning"}
    assert {
        "undeclared_variable",
        "image_alt",
        "insecure_link",
        "email_size",
        "unsubscribe_link",
        "sms_segments",
        "sms_ucs2",
        "missing_asset",
    } <= set(names)


# --- undeclared variables ----------------------------------------------------------------------------

SCHEMA = {
    "type": "object",
    "properties": {
        "invoice": {
            "type": "object",
            "properties": {
                "number": {"type": "string"},
                "lines": {"type": "array", "items": {"type": "object", "properties": {"name": {}}}},
                "extra": {"type": "object"},
            },
        }
    },
}


def test_a_variable_the_schema_does_not_declare_is_an_error_on_its_line() -> None:
    text = (
        "Hi {{ customer.first_name }}, invoice {{ invoice.number }}\n"
        "{% for line in invoice.lines %}{{ line.name }} {{ line.price }}{% endfor %}\n"
        "Total {{ invoice.total }} {{ order.id }} {{ invoice.extra.anything }} {{ invoice.number.upper() }}\n"
        "{{ unsubscribe_url }}"
    )
    found = issues_of({"sms": {"text": text}}, schema=SCHEMA, rule="undeclared_variable")
    assert [(i.part, i.line, i.severity, i.locale) for i in found] == [
        ("sms.text", 3, "error", None),
        ("sms.text", 3, "error", None),
        ("sms.text", 2, "error", None),
    ]
    messages = " ".join(i.message for i in found)
    assert "'order'" in messages and "'invoice.total'" in messages and "'invoice.lines[].price'" in messages


def test_declared_variables_or_no_schema_are_fine() -> None:
    text = "{{ invoice.number }} {% for line in invoice.lines %}{{ line.name }}{% endfor %}"
    assert issues_of({"sms": {"text": text}}, schema=SCHEMA, rule="undeclared_variable") == []
    assert issues_of({"sms": {"text": "{{ anything.at_all }}"}}, rule="undeclared_variable") == []


# --- images, links -----------------------------------------------------------------------------------


def test_images_without_alt_text_are_warnings_in_email_and_pdf_html() -> None:
    html = '<p>Hello</p>\n<img src="a.png">\n<img src="b.png" alt="">\n<img src="c.png" alt="Logo">'
    mjml = '<mjml><mj-body>\n<mj-image src="https://x.example/i.png" />\n</mj-body></mjml>'
    parts = {"email": {"subject": "s", "mjml": mjml}, "pdf": {"html": html}}
    found = issues_of(parts, rule="image_alt")
    assert [(i.part, i.line, i.severity) for i in found] == [
        ("email.mjml", 2, "warning"),
        ("pdf.html", 2, "warning"),
    ]
    assert "a.png" in found[1].message


def test_http_links_are_warnings_https_mailto_tel_and_expressions_are_not() -> None:
    html = (
        '<a href="https://ok.example">ok</a> <a href="mailto:a@b.example">m</a> <a href="tel:+39">t</a>\n'
        '<a href="{{ cta_url }}">cta</a>\n'
        '<a href="HTTP://plain.example/{{ id }}">bad</a>'
    )
    found = issues_of({"email": {"subject": "s", "html": html}}, rule="insecure_link")
    assert [(i.part, i.line, i.severity) for i in found] == [("email.html", 3, "warning")]
    assert "HTTP://plain.example/{{ id }}" in found[0].message
    assert issues_of({"email": {"subject": "s", "html": html.rsplit("\n", 1)[0]}}, rule="insecure_link") == []


# --- email size, unsubscribe -------------------------------------------------------------------------

EMAIL = {"email": {"subject": "s", "html": "<p>{{ body }} <a href='{{ unsubscribe_url }}'>stop</a></p>"}}


def test_an_email_over_102_kb_after_rendering_is_a_warning() -> None:
    big = RenderedEmail("s", "<p>" + "x" * 105_000 + "</p>", "")
    found = issues_of(EMAIL, samples={None: {"email": big}}, rule="email_size")
    assert [(i.part, i.severity, i.line) for i in found] == [("email.html", "warning", None)]
    assert "103 KB" in found[0].message and "Gmail" in found[0].message
    small = RenderedEmail("s", "<p>" + "x" * 100_000 + "</p>", "")
    assert issues_of(EMAIL, samples={None: {"email": small}}, rule="email_size") == []


def test_a_marketing_email_without_an_unsubscribe_link_is_an_error() -> None:
    bare = {"email": {"subject": "s", "html": "<p>Buy {{ product }}</p>"}}
    found = issues_of(bare, category="marketing", rule="unsubscribe_link")
    assert [(i.part, i.severity) for i in found] == [("email.html", "error")]
    assert issues_of(EMAIL, category="marketing", rule="unsubscribe_link") == []
    assert issues_of(bare, category="transactional", rule="unsubscribe_link") == []


# --- SMS ---------------------------------------------------------------------------------------------


def test_an_sms_past_the_configured_segments_is_a_warning() -> None:
    parts = {"sms": {"text": "{{ text }}"}}
    three = RenderedSms("x" * 400, "GSM-7", 3)
    found = issues_of(parts, samples={None: {"sms": three}}, rule="sms_segments")
    assert [(i.part, i.severity) for i in found] == [("sms.text", "warning")]
    assert "3 segments" in found[0].message and "more than 2" in found[0].message
    two = RenderedSms("x" * 300, "GSM-7", 2)
    assert issues_of(parts, samples={None: {"sms": two}}, rule="sms_segments") == []


def test_a_character_that_switches_the_sms_to_ucs2_is_named_with_its_line_and_column() -> None:
    source = "Ciao {{ name }},\nil tuo codice è pronto ✓"
    rendered = RenderedSms("Ciao Zoë,\nil tuo codice è pronto ✓", "UCS-2", 1)
    found = issues_of({"sms": {"text": source}}, samples={None: {"sms": rendered}}, rule="sms_ucs2")
    assert [(i.line, i.severity) for i in found] == [(None, "warning"), (2, "warning")]
    assert (
        "'ë'" in found[0].message and "sample data" in found[0].message and "character 8" in found[0].message
    )
    assert "'✓' (U+2713) at line 2, column 24" in found[1].message
    gsm = RenderedSms("Ciao Zoe, il tuo codice è pronto", "GSM-7", 1)
    assert (
        issues_of({"sms": {"text": "Ciao {{ name }}, il tuo codice è pronto"}}, samples={None: {"sms": gsm}})
        == []
    )


def test_without_a_sample_render_the_sms_source_is_checked_and_the_failure_reported() -> None:
    failed = RenderError("missing variable 'name'")
    found = issues_of({"sms": {"text": "Grazie — {{ name }}"}}, samples={None: {"sms": failed}})
    assert [(i.rule, i.line) for i in found] == [("sms_ucs2", 1), ("sample_render", None)]
    assert "not measured" in found[1].message


# --- PDF assets --------------------------------------------------------------------------------------


def test_a_pdf_referencing_a_missing_asset_is_an_error_with_its_line() -> None:
    html = (
        '<img src="logo.svg" alt="">\n'
        '<img src="missing.png" alt="">\n'
        "<style>\n  body { background: url('paper.jpg') }\n</style>\n"
        '<div style="background: url(%2e%2e/secret.png)"></div>\n'
        '<img src="{{ logo }}" alt=""> <img src="data:image/png;base64,AA==" alt=""> <a href="#top">top</a>\n'
        '<a href="https://example.com/terms">terms</a>'
    )
    css = "@page { size: A4 }\n@font-face { src: url(fonts/inter.woff2) }"
    found = issues_of({"pdf": {"html": html, "css": css}}, rule="missing_asset")
    assert [(i.part, i.line, i.severity) for i in found] == [
        ("pdf.html", 2, "error"),
        ("pdf.html", 6, "error"),
        ("pdf.html", 4, "error"),
        ("pdf.css", 2, "error"),
    ]
    assert "'missing.png' is not in the assets folder" in found[0].message
    assert "outside the assets folder" in found[1].message


def test_a_pdf_whose_assets_all_exist_is_fine() -> None:
    parts = {"pdf": {"html": '<img src="logo.svg" alt="Example Co"><img src="/logo.svg" alt="">'}}
    assert issues_of(parts) == []


# --- locale variants ---------------------------------------------------------------------------------


def test_each_locale_variant_is_linted_for_its_own_fields() -> None:
    parts = {
        "email": {"subject": "Hi", "html": "<p>Hi <a href='{{ unsubscribe_url }}'>stop</a></p>"},
        "sms": {"text": "Hello"},
    }
    locales = {
        "it": {"email": {"html": '<p>Ciao <img src="x.png"></p>'}},
        "de-CH": {"email": {"subject": "Grüezi"}},
    }
    found = issues_of(parts, locales=locales, category="marketing")
    assert {(i.rule, i.part, i.locale) for i in found} == {
        ("image_alt", "email.html", "it"),
        ("unsubscribe_link", "email.html", "it"),
    }


# --- the API -----------------------------------------------------------------------------------------


def lint(service: Service, key: str, body: dict[str, Any] | None = None, role: Role = Role.MARKETER) -> Any:
    return service.client.post(f"/v1/templates/{key}/lint", json=body, headers=service.headers(role))


def test_the_starter_templates_lint_without_errors(service: Service) -> None:
    for key in ("invoice", "otp", "statement", "welcome"):
        response = lint(service, key)
        assert response.status_code == 200, response.text
        assert [i for i in response.json()["issues"] if i["severity"] == "error"] == [], key


def test_a_saved_version_is_linted_with_its_sample_data_rendered(service: Service) -> None:
    body = {
        "key": "promo",
        "name": "Promo",
        "category": "marketing",
        "parts": {
            "email": {"subject": "Sale", "html": '<p>{{ filler }}</p><img src="https://x.example/a.png">'},
            "sms": {"text": "{{ filler }}"},
        },
        "sample_data": {"filler": "x" * 105_000},
        "schema": False,
    }
    created = service.client.post("/v1/templates", json=body, headers=service.headers(Role.MARKETER))
    assert created.status_code == 201, created.text

    response = lint(service, "promo", {"version": 1})
    assert response.status_code == 200, response.text
    rules = {(i["rule"], i["part"], i["severity"]) for i in response.json()["issues"]}
    assert ("email_size", "email.html", "warning") in rules
    assert ("unsubscribe_link", "email.html", "error") in rules
    assert ("image_alt", "email.html", "warning") in rules
    assert ("sample_render", "sms.text", "warning") in rules  # 105,000 characters pass the segment limit
    issue = response.json()["issues"][0]
    assert set(issue) == {"rule", "severity", "part", "locale", "line", "message"}


def test_sms_segments_follow_the_setting(service_factory: Any) -> None:
    service = service_factory(lint_sms_segments=1)
    body = {"parts": {"sms": {"text": "{{ long }}"}}, "sample_data": {"long": "y" * 200}, "schema": False}
    found = lint(service, "otp", body).json()["issues"]
    assert [(i["rule"], i["severity"]) for i in found] == [("sms_segments", "warning")]
    assert "2 segments" in found[0]["message"]


def test_unsaved_content_is_linted_over_the_latest_version(service: Service) -> None:
    body = {
        "parts": {"sms": {"text": "Code {{ code }} {{ mystery }} ✓"}},
        "locales": {"it_IT": {"sms": {"text": "Codice {{ code }} {{ enigma }}"}}},
        "schema": {"type": "object", "properties": {"code": {"type": "string"}}},
    }
    response = lint(service, "otp", body)
    assert response.status_code == 200, response.text
    found = [(i["rule"], i["locale"], i["line"]) for i in response.json()["issues"]]
    assert ("undeclared_variable", None, 1) in found
    assert ("sms_ucs2", None, 1) in found
    assert ("undeclared_variable", "it-IT", 1) in found
    saved = service.client.get("/v1/templates/otp", headers=service.headers()).json()
    assert saved["latest_version"] == 1  # nothing was saved


@pytest.mark.parametrize(
    ("key", "body", "status", "code"),
    [
        ("nope", None, 404, "template_not_found"),
        ("otp", {"version": 9}, 404, "version_not_found"),
        ("otp", {"parts": {"fax": {"text": "x"}}}, 422, "unknown_channel"),
        ("otp", {"parts": {"sms": {"text": "{% if %}"}}}, 422, "template_invalid"),
        ("otp", {"locales": {"xx-??": {"sms": {"text": "x"}}}}, 422, "invalid_locale"),
        ("otp", {"locales": {"it": {"email": {"subject": "x"}}}}, 422, "channel_not_in_template"),
        ("otp", {"schema": {"type": 12}}, 422, "invalid_schema"),
        ("otp", {"colour": "red"}, 422, "invalid"),
    ],
)
def test_bad_requests_are_refused(service: Service, key: str, body: Any, status: int, code: str) -> None:
    response = lint(service, key, body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_linting_needs_read_access(service: Service) -> None:
    assert service.client.post("/v1/templates/otp/lint").status_code == 401
    assert lint(service, "otp", role=Role.SENDER).status_code == 200


def test_submitting_with_lint_errors_is_refused_and_warnings_do_not_stop_it(service: Service) -> None:
    headers = service.headers(Role.MARKETER)
    html = '<p>Sale!</p><img src="https://x.example/a.png">'
    body = {
        "key": "sale",
        "name": "Sale",
        "category": "marketing",
        "parts": {"email": {"subject": "S", "html": html}},
    }
    assert service.client.post("/v1/templates", json=body, headers=headers).status_code == 201

    refused = service.client.post("/v1/templates/sale/versions/1/submit", headers=headers)
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "lint_failed" and "unsubscribe" in error["message"]
    assert {(d["rule"], d["severity"]) for d in error["details"]} == {
        ("unsubscribe_link", "error"),
        ("image_alt", "warning"),
    }
    assert service.client.get("/v1/templates/sale/versions/1", headers=headers).json()["status"] == "draft"

    fixed = {"parts": {"email": {"subject": "S", "html": html + '<a href="{{ unsubscribe_url }}">Stop</a>'}}}
    assert service.client.post("/v1/templates/sale/versions", json=fixed, headers=headers).status_code == 201
    submitted = service.client.post("/v1/templates/sale/versions/2/submit", headers=headers)
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "submitted"
