"""Per-locale variants of a version's parts, and the one function that picks what a customer receives.

A version keeps its default parts in `parts` and, beside them, `locales`: overrides by BCP 47 tag
(`{"it": {"sms": {"text": "…"}}, "de-CH": {"email": {"subject": "…"}}}`). Tags arrive as `de-CH` or
`de_CH` and are stored as `de-CH`; customers' locales are stored the POSIX way (`de_CH`), and both are read
by `locale_chain`.

The merge is per field: a customer in `it_CH` gets, for each channel of the default parts, the default
part with the fields of `it` laid over it, then the fields of `it-CH` over that. So a variant can change an
SMS text alone, or only an email's subject, and everything it does not name comes from the next tag down
the chain. A field set to `null` in a variant removes the default's (how an Italian email swaps an MJML
body for an HTML one: `{"html": "…", "mjml": null}`). Variants never add a channel the defaults lack.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from babel import Locale, UnknownLocaleError
from pydantic import GetJsonSchemaHandler, ValidationError, ValidatorFunctionWrapHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from ccm.channels import channel_keys, get_channel, is_channel
from ccm.channels.library import with_library
from ccm.errors import Unprocessable
from ccm.registry.contract_marks import with_contract_marks
from ccm.registry.models import TemplateVersion
from renderers.errors import RenderError

MAX_LOCALES = 100
LOCALE_TAG = re.compile(r"^([A-Za-z]{2,3})(?:[-_]([A-Za-z]{2}|[0-9]{3}))?$")
"""What a variant may be keyed by: a language, optionally with a region (`it`, `de-CH`, `es-419`)."""

Variants = dict[str, dict[str, dict[str, Any]]]
"""Locale tag -> channel -> the fields that variant overrides."""


def normalise_locale_tag(key: object) -> str:
    """`de_ch`, `DE-CH` -> `de-CH`; ValueError for what is not a language[-region] tag Babel knows."""
    match = LOCALE_TAG.fullmatch(key) if isinstance(key, str) else None
    if match is None:
        raise ValueError(
            f"{key!r} is not a locale tag: use a language with an optional region, like 'it' or 'de-CH'"
        )
    language, region = match.group(1).lower(), match.group(2)
    tag = f"{language}-{region.upper()}" if region else language
    try:
        Locale.parse(tag.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        raise ValueError(f"{key!r} is not a locale known to the service") from None
    return tag


def posix_locale(tag: str) -> str:
    """`de-CH` as the renderers and customer records write it: `de_CH`."""
    return tag.replace("-", "_")


def _subtag(index: int, subtag: str) -> str:
    if index == 0:
        return subtag.lower()
    return subtag.title() if len(subtag) == 4 else subtag.upper()


def locale_chain(locale: str | None) -> list[str]:
    """The tags a customer's locale falls back through, most specific first: `it_CH` -> `it-CH`, `it`."""
    if not locale:
        return []
    subtags = [_subtag(i, s) for i, s in enumerate(re.split(r"[-_]", locale)) if s]
    return ["-".join(subtags[:end]) for end in range(len(subtags), 0, -1)]


def _overlay(part: Mapping[str, Any], variant: Mapping[str, Any] | None) -> dict[str, Any]:
    merged = dict(part)
    for name, value in (variant or {}).items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


def localised_parts(
    parts: Mapping[str, Any], locales: Mapping[str, Any], locale: str | None
) -> dict[str, Any]:
    """What a customer in `locale` receives: each default part with its fallback chain's fields over it."""
    chain = [tag for tag in reversed(locale_chain(locale)) if tag in locales]
    if not chain:
        return dict(parts)
    result: dict[str, Any] = {}
    for channel, part in parts.items():
        for tag in chain:
            part = _overlay(part, locales[tag].get(channel))
        result[channel] = part
    return result


def every_locale(
    parts: Mapping[str, Any], locales: Mapping[str, Any]
) -> list[tuple[str | None, dict[str, Any]]]:
    """The parts as each locale receives them: the defaults (None) first, then every variant by tag."""
    return [(None, dict(parts))] + [(tag, localised_parts(parts, locales, tag)) for tag in sorted(locales)]


def all_sources(parts: Mapping[str, Any], locales: Mapping[str, Any]) -> list[str]:
    """Every Jinja source any customer's render may use, over every channel and locale, each once."""
    sources: list[str] = []
    for _tag, effective in every_locale(parts, locales):
        for channel in effective:
            sources += [s for _, s in get_channel(channel).sources(effective) if s not in sources]
    return sources


def parts_for_locale(version: TemplateVersion, locale: str | None) -> dict[str, Any]:
    """What every render of `version` for a customer in `locale` uses: sends, checks, previews, re-renders;
    with the version's pinned layout and partial sources beside the parts (`ccm.channels.library`)."""
    parts = with_library(localised_parts(version.parts, version.locales or {}, locale), version.library or {})
    return with_contract_marks(parts, version.data_schema)


def parts_for_context(version: TemplateVersion, context: Mapping[str, Any]) -> dict[str, Any]:
    """`parts_for_locale` for the customer a message's context was built for (its `customer.locale`)."""
    customer = context.get("customer")
    locale = customer.get("locale") if isinstance(customer, Mapping) else None
    return parts_for_locale(version, str(locale) if locale else None)


def read_variants(value: Any) -> Variants:
    """The shape of `locales` on the wire: tags normalised, each a channel -> fields object (pydantic glue
    raises these as `invalid_locale`, `duplicate_locale`, `unknown_channel`)."""
    if not isinstance(value, dict):
        raise PydanticCustomError("invalid", "locales must be an object of locale tag -> parts")
    if len(value) > MAX_LOCALES:
        raise PydanticCustomError("invalid", "at most {limit} locales", {"limit": MAX_LOCALES})
    variants: Variants = {}
    for key, variant in value.items():
        try:
            tag = normalise_locale_tag(key)
        except ValueError as error:
            raise PydanticCustomError("invalid_locale", "{problem}", {"problem": str(error)}) from None
        if tag in variants:
            problem = f"{key!r} and another key are both the locale {tag!r}: give each locale once"
            raise PydanticCustomError("duplicate_locale", "{problem}", {"problem": problem})
        variants[tag] = _read_variant(tag, variant)
    return variants


def _read_variant(tag: str, variant: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(variant, dict):
        problem = f"the variant {tag!r} must be an object with parts by channel"
        raise PydanticCustomError("invalid", "{problem}", {"problem": problem})
    for channel, fields in variant.items():
        if not is_channel(channel):
            known = ", ".join(channel_keys())
            problem = f"the variant {tag!r} names an unknown channel {channel!r} (known: {known})"
            raise PydanticCustomError("unknown_channel", "{problem}", {"problem": problem})
        if not isinstance(fields, dict):
            problem = f"the {channel} part of the variant {tag!r} must be an object of fields"
            raise PydanticCustomError("invalid", "{problem}", {"problem": problem})
    return {channel: dict(fields) for channel, fields in variant.items()}


def check_locales(parts: Mapping[str, Any], locales: Variants, library: dict[str, str] | None = None) -> None:
    """Refuse a variant the version could not send: a channel without a default part, a field its channel's
    part schema refuses once merged, a rule between parts broken, or a source that does not compile."""
    for tag in sorted(locales):
        for channel in locales[tag]:
            if channel not in parts:
                raise Unprocessable(
                    f"locales.{tag}.{channel}: the template has no default {channel} part to vary",
                    field=f"locales.{tag}.{channel}",
                    code="channel_not_in_template",
                )
        _check_effective(tag, localised_parts(parts, locales, tag), library or {})


def _check_effective(tag: str, effective: dict[str, Any], library: dict[str, str]) -> None:
    for channel, part in effective.items():
        spec = get_channel(channel)
        try:
            effective[channel] = spec.part_model.model_validate(part).model_dump(exclude_none=True)
        except ValidationError as error:
            first = error.errors()[0]
            inner = ".".join(str(p) for p in first["loc"])
            where = f"locales.{tag}.{channel}" + (f".{inner}" if inner else "")
            raise Unprocessable(f"{where}: {first['msg']}", field=where, code="invalid") from None
    for channel in effective:
        problem = get_channel(channel).consistency(effective)
        if problem:
            raise Unprocessable(f"locales.{tag}: {problem}", field=f"locales.{tag}", code="invalid")
        spec = get_channel(channel)
        try:
            spec.check(with_library(effective, library))
        except RenderError as error:
            inner_field = error.field if error.field and error.field != channel else None
            where = f"locales.{tag}.{spec.error_field(inner_field)}"
            raise Unprocessable(f"{where}: {error.message}", field=where, code="template_invalid") from error


class _TemplateLocales:
    """Pydantic glue: validation by `read_variants`, and a JSON schema listing the registered channels."""

    @classmethod
    def __get_pydantic_core_schema__(cls, _source: Any, _handler: Any) -> core_schema.CoreSchema:
        def wrap(value: Any, _next: ValidatorFunctionWrapHandler) -> Variants:
            return read_variants(value)

        return core_schema.no_info_wrap_validator_function(wrap, core_schema.dict_schema())

    @classmethod
    def __get_pydantic_json_schema__(
        cls, _schema: core_schema.CoreSchema, _handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        channels = {
            key: {"type": "object", "description": f"fields overriding the default {key} part"}
            for key in channel_keys()
        }
        variant = {"type": "object", "properties": channels, "additionalProperties": False}
        return {
            "type": "object",
            "description": "Per-locale overrides of the parts, by locale tag (`it`, `de-CH`).",
            "propertyNames": {"pattern": LOCALE_TAG.pattern},
            "additionalProperties": variant,
            "maxProperties": MAX_LOCALES,
        }


TemplateLocales = Annotated[Variants, _TemplateLocales]
"""A version's locale variants on the wire: tags normalised, channels registered (`read_variants`)."""
