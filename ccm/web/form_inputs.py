"""The names of the authoring form's inputs, and which input an API error's `field` concerns.

The page shows each error beside the input it is about (the live preview's `data-input`, a refused save's
notes), so the API's names for a template's places are mapped back to the form's here, in one place.
"""

from __future__ import annotations

from ccm.channels import ChannelSpec, FormField, all_channels

VARIANT_PREFIX = "locale:"
"""A locale variant's inputs are named `locale:<tag>:<default part's input>` (`locale:it:sms_text`)."""


def input_name(spec: ChannelSpec, form_field: FormField) -> str:
    """A default part's input: `<channel>_<field>` (`email_subject`)."""
    return f"{spec.key}_{form_field.name}"


def variant_input(tag: str, name: str) -> str:
    """The name of a variant's input: `locale:it:sms_text`."""
    return f"{VARIANT_PREFIX}{tag}:{name}"


SAMPLE_DATA_INPUT = "sample_data"
SCHEMA_INPUT = "schema"
LAYOUT_INPUT = "layout"
PREVIEW_LOCALE_INPUT = "preview_locale"
NEW_LOCALE_INPUT = "new_locale"
NAMED_INPUTS = {
    "data": SAMPLE_DATA_INPUT,
    SAMPLE_DATA_INPUT: SAMPLE_DATA_INPUT,
    SCHEMA_INPUT: SCHEMA_INPUT,
    "locale": PREVIEW_LOCALE_INPUT,
    LAYOUT_INPUT: LAYOUT_INPUT,
}
"""API fields that are one input each: the data, the schema, the locale a preview renders in, the layout."""


def input_for_field(api_field: str | None) -> str | None:
    """The form input an API error's `field` points at (`parts.email.html` -> `email_body`), if any.

    The live preview shows an error beside the field the author is typing in, so the API's names for a
    template's places (with or without the `parts.` prefix, or just the channel) are mapped back to inputs;
    a data error belongs to the sample data, a variant's (`locales.it.sms.text`) to that variant's input.
    """
    if not api_field:
        return None
    path = api_field.removeprefix("parts.").split(".")
    if path[0] in NAMED_INPUTS:
        return NAMED_INPUTS[path[0]]
    if path[0] == "locales" and len(path) > 1:
        return _variant_input(path[1], ".".join(path[2:]))
    return _part_input(path)


def _variant_input(tag: str, inner: str) -> str:
    """`locales.it.sms.text` -> `locale:it:sms_text`; a problem with the whole variant -> its fieldset."""
    name = _part_input(inner.split(".")) if inner else None
    return variant_input(tag, name) if name else f"{VARIANT_PREFIX}{tag}"


def _part_input(path: list[str]) -> str | None:
    spec = next((s for s in all_channels() if s.key == path[0]), None)
    if spec is None:
        return None
    inner = path[1] if len(path) > 1 else spec.source_field
    for form_field in spec.form_fields:
        if inner == form_field.name or inner in form_field.choices:
            return input_name(spec, form_field)
    return None
