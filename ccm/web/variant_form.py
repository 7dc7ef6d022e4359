"""The draft form's locale variants: per locale, the channel fields that variant overrides.

A variant's inputs are named `locale:<tag>:<input>`, where `<input>` is the default part's input name
(`locale:it:sms_text`, `locale:de-CH:email_body_kind`), so the API's `locales.it.sms.text` maps back to one
input. An empty field falls back to the default part; a flag is a choice of "as the default", yes or no. A
variant whose fields are all empty overrides nothing and is left out of the request (that removes it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from babel import Locale, UnknownLocaleError

from ccm.channels import FormField, all_channels
from ccm.registry.locales import normalise_locale_tag
from ccm.web.form_inputs import VARIANT_PREFIX, input_name, variant_input

BLANK_TAG = "__LOCALE__"
"""The tag of the page's hidden variant fieldset, which `locale-variants.js` copies for a new locale."""
FLAG_CHOICES = ("", "true", "false")
"""A variant's flag: "" as the default part has it, or set either way."""


def tidy_tag(tag: str) -> str:
    """`de_ch` -> `de-CH` where it is a locale tag; anything else as typed, for the API to refuse by name."""
    try:
        return normalise_locale_tag(tag.strip())
    except ValueError:
        return tag.strip()


def display_name(tag: str) -> str:
    """`de-CH` -> "German (Switzerland)", so the author sees which locale a fieldset is for."""
    try:
        return str(Locale.parse(tag.replace("-", "_")).get_display_name("en") or tag)
    except (UnknownLocaleError, ValueError, TypeError):
        return tag


@dataclass
class VariantForm:
    """One locale's overrides as typed: default-part input name -> value ("" falls back to the default)."""

    tag: str
    values: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_variant(cls, tag: str, variant: Mapping[str, Any], kinds: Mapping[str, str]) -> VariantForm:
        """A saved variant's fields; a body the variant leaves alone keeps the default part's language."""
        values: dict[str, str] = {}
        for spec in all_channels():
            part = variant.get(spec.key) or {}
            for form_field in spec.form_fields:
                values.update(_field_values(input_name(spec, form_field), form_field, part, kinds))
        return cls(tag, values)

    @classmethod
    def from_submitted(cls, tag: str, submitted: Mapping[str, Any]) -> VariantForm:
        """The posted `locale:<tag>:…` inputs, with CRLF line endings made LF."""
        prefix = variant_input(tag, "")
        values = {
            name.removeprefix(prefix): str(value).replace("\r\n", "\n").replace("\r", "\n")
            for name, value in submitted.items()
            if name.startswith(prefix)
        }
        return cls(tidy_tag(tag), values)

    @property
    def label(self) -> str:
        return f"{display_name(self.tag)} ({self.tag})"

    def overrides(self) -> dict[str, dict[str, Any]]:
        """Channel -> the fields this variant sets; channels it leaves alone are absent."""
        variant: dict[str, dict[str, Any]] = {}
        for spec in all_channels():
            part: dict[str, Any] = {}
            for form_field in spec.form_fields:
                part.update(self._override(input_name(spec, form_field), form_field))
            if part:
                variant[spec.key] = part
        return variant

    def _override(self, name: str, form_field: FormField) -> dict[str, Any]:
        value = self.values.get(name, "")
        if form_field.kind == "flag":
            return {form_field.name: value == "true"} if value in ("true", "false") else {}
        if not value.strip():
            return {}
        if form_field.kind != "choice":
            return {form_field.name: value}
        kind = self.values.get(f"{name}_kind", "")
        kind = kind if kind in form_field.choices else form_field.choices[0]
        return {choice: value if choice == kind else None for choice in form_field.choices}


def _field_values(
    name: str, form_field: FormField, part: Mapping[str, Any], kinds: Mapping[str, str]
) -> dict[str, str]:
    if form_field.kind == "flag":
        value = part.get(form_field.name)
        return {name: "" if value is None else str(bool(value)).lower()}
    if form_field.kind == "choice":
        kind = next((c for c in form_field.choices if part.get(c) is not None), None)
        chosen = kind or kinds.get(f"{name}_kind") or form_field.choices[0]
        return {name: str(part.get(kind) or "") if kind else "", f"{name}_kind": chosen}
    return {name: str(part.get(form_field.name) or "")}


def submitted_tags(submitted: Mapping[str, Any]) -> list[str]:
    """The locale tags the posted form has fieldsets for, in page order, each once."""
    tags: list[str] = []
    for name in submitted:
        if name.startswith(VARIANT_PREFIX) and name.count(":") >= 2:
            tag = name[len(VARIANT_PREFIX) :].split(":", 1)[0]
            if tag not in tags:
                tags.append(tag)
    return tags
