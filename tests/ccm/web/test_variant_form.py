"""The draft form's locale variants and schema: a version's content survives version -> form -> request."""

from __future__ import annotations

from typing import Any

import pytest

from ccm.web.forms import FormErrors, PartsForm

PARTS = {"email": {"subject": "Hi", "mjml": "<mjml><mj-body></mj-body></mjml>"}, "sms": {"text": "Hi"}}
SCHEMA = {"type": "object", "properties": {"code": {"type": "string"}}}


def posted(form: PartsForm) -> dict[str, Any]:
    """What the page posts for a form: every input as a browser sends it (flags only when ticked)."""
    fields: dict[str, Any] = {k: v for k, v in form.values.items() if v is not False}
    for variant in form.variant_fieldsets():
        for fieldset in variant.fieldsets:
            for view in fieldset.fields:
                fields[view.name] = view.value
                if view.kind == "choice":
                    fields[f"{view.name}_kind"] = view.chosen
    return {**fields, "sample_data": form.sample_data, "schema": form.schema or ""}


@pytest.mark.parametrize(
    "locales",
    [
        {"it": {"sms": {"text": "Ciao"}}},
        {"it": {"email": {"subject": "Ciao", "html": "<p>Ciao</p>", "mjml": None}}},
        {"de-CH": {"email": {"attach_pdf": False}}, "it": {"email": {"attach_pdf": True}}},
    ],
)
def test_variants_and_schema_round_trip_through_the_form(locales: dict[str, Any]) -> None:
    form = PartsForm.from_version(PARTS, {"code": "1"}, locales, SCHEMA)

    request = PartsForm.from_submitted(posted(form)).version_request()

    assert request.locales == locales
    assert request.data_schema == SCHEMA


def test_an_empty_variant_is_left_out_and_tags_are_normalised() -> None:
    submitted = {"sms_text": "Hi", "locale:de_ch:sms_text": "Grüezi", "locale:it:sms_text": " "}

    request = PartsForm.from_submitted(submitted).version_request()

    assert request.locales == {"de-CH": {"sms": {"text": "Grüezi"}}}


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("", None), ("  ", None), ("false", False), ('{"type": "object"}', {"type": "object"})],
)
def test_the_schema_field_proposes_opts_out_or_gives_a_schema(typed: str, expected: Any) -> None:
    form = PartsForm.from_submitted({"sms_text": "Hi", "schema": typed})

    assert form.data_schema() == expected


@pytest.mark.parametrize(("typed", "problem"), [("{", "not valid JSON"), ("[1]", "must be a JSON object")])
def test_a_schema_that_is_not_an_object_is_refused_at_its_input(typed: str, problem: str) -> None:
    form = PartsForm.from_submitted({"sms_text": "Hi", "schema": typed})

    with pytest.raises(FormErrors) as refused:
        form.version_request()

    assert problem in refused.value.inputs["schema"][0]


def test_a_locale_given_twice_is_refused_at_its_fieldset() -> None:
    form = PartsForm.from_submitted(
        {"sms_text": "Hi", "locale:de_CH:sms_text": "a", "locale:de-ch:sms_text": "b"}
    )

    with pytest.raises(FormErrors) as refused:
        form.version_request()

    assert "two fieldsets" in refused.value.inputs["locale:de-CH"][0]


def test_a_version_without_a_schema_keeps_none_and_a_new_form_proposes_one() -> None:
    assert PartsForm.from_version(PARTS, {}, {}, False).schema == "false"
    assert PartsForm.from_version(PARTS, {}, {}, {}).schema == "{}"
    assert PartsForm.from_version({}, {}).schema == ""
