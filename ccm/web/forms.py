"""The authoring form: a template version's parts as flat form fields, and back into an API request.

The fields come from the channel specs (`ChannelSpec.form_fields`), so a registered channel gets its
fieldset without a change here. An input is named `<channel>_<field>`; a body that may be written in one of
several languages (an email's MJML or HTML) is a textarea plus a `<channel>_<field>_kind` select. Beside the
default parts: one fieldset per locale variant (`ccm.web.variant_form`) and the data schema as JSON. Kept free
of FastAPI so the round trip (version -> form -> request) can be reasoned about on its own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeVar

from pydantic import ValidationError

from ccm.channels import ChannelSpec, all_channels
from ccm.registry.schemas import TemplateCreate, VersionCreate
from ccm.web.form_inputs import (
    LAYOUT_INPUT,
    NEW_LOCALE_INPUT,
    PREVIEW_LOCALE_INPUT,
    SAMPLE_DATA_INPUT,
    SCHEMA_INPUT,
    VARIANT_PREFIX,
    input_for_field,
    input_name,
    variant_input,
)
from ccm.web.variant_form import (
    BLANK_TAG,
    FLAG_CHOICES,
    VariantForm,
    submitted_tags,
    tidy_tag,
)

__all__ = [
    "NEW_LOCALE_INPUT",
    "PREVIEW_LOCALE_INPUT",
    "SAMPLE_DATA_INPUT",
    "SCHEMA_INPUT",
    "FormErrors",
    "PartsForm",
    "input_for_field",
    "input_name",
]

Request = TypeVar("Request", VersionCreate, TemplateCreate)
TEXT_KINDS = ("line", "text", "code", "choice")


class FormErrors(Exception):
    """Every problem found in a submitted form, phrased for the person who filled it in; `inputs` maps the
    inputs concerned to their problems, so the page can show each beside its field."""

    def __init__(self, messages: list[str], inputs: dict[str, list[str]] | None = None) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages
        self.inputs = inputs or {}


def _lines(value: str) -> str:
    """Browsers submit textareas with CRLF; templates are stored with LF."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


@dataclass(frozen=True)
class FieldView:
    """One field as the template draws it."""

    kind: str
    label: str
    name: str
    value: str | bool
    choices: tuple[str, ...] = ()
    chosen: str = ""
    editor: str = "text"
    """The language the page's code editor highlights the field in (`data-editor`)."""


@dataclass(frozen=True)
class Fieldset:
    legend: str
    fields: list[FieldView]


@dataclass(frozen=True)
class VariantFieldset:
    """One locale variant as the template draws it: a fieldset per channel, inputs named for the locale."""

    tag: str
    legend: str
    fieldsets: list[Fieldset]


@dataclass
class PartsForm:
    values: dict[str, Any] = field(default_factory=dict)
    """Input name -> what was typed (a string) or ticked (a bool)."""
    sample_data: str = "{}"
    variants: list[VariantForm] = field(default_factory=list)
    schema: str | None = None
    """The data schema as typed: JSON (an object, or `false` for none); empty proposes one from the
    variables used; None when the form did not carry the field (the version's own schema stands)."""
    layout: str | None = None
    """The layout chosen, as `key@version`; empty for none; None when the form did not carry the field."""
    errors: dict[str, list[str]] = field(default_factory=dict)
    """Input name -> why the last submission was refused there, shown beside that field."""

    @classmethod
    def from_version(
        cls,
        parts: Mapping[str, Any],
        sample_data: dict[str, Any],
        locales: Mapping[str, Any] | None = None,
        data_schema: dict[str, Any] | bool | None = None,
        layout: Mapping[str, Any] | None = None,
    ) -> PartsForm:
        """Pre-fill the form with an existing version, so a new draft starts from it (`data_schema`:
        False for a version without one, None for a form whose schema is to be proposed)."""
        form = cls._from_parts(parts, sample_data)
        kinds = form.body_kinds()
        form.variants = [VariantForm.from_variant(t, v, kinds) for t, v in sorted((locales or {}).items())]
        form.schema = _schema_text(data_schema)
        form.layout = f"{layout['key']}@{layout['version']}" if layout else ""
        return form

    @classmethod
    def _from_parts(cls, parts: Mapping[str, Any], sample_data: dict[str, Any]) -> PartsForm:
        values: dict[str, Any] = {}
        for spec in all_channels():
            part = parts.get(spec.key) or {}
            for form_field in spec.form_fields:
                name = input_name(spec, form_field)
                if form_field.kind == "choice":
                    kind = next(
                        (c for c in form_field.choices if part.get(c) is not None), form_field.choices[0]
                    )
                    values[f"{name}_kind"] = kind
                    values[name] = part.get(kind) or ""
                elif form_field.kind == "flag":
                    values[name] = bool(part.get(form_field.name))
                else:
                    values[name] = part.get(form_field.name) or ""
        return cls(values, json.dumps(sample_data, indent=2, ensure_ascii=False))

    @classmethod
    def from_submitted(cls, submitted: Mapping[str, Any]) -> PartsForm:
        """The posted fields exactly as typed (line endings aside), so a rejected form can be shown again."""
        values: dict[str, Any] = {}
        for spec in all_channels():
            for form_field in spec.form_fields:
                name = input_name(spec, form_field)
                if form_field.kind == "flag":
                    values[name] = str(submitted.get(name, "")).lower() in ("true", "on", "1")
                    continue
                values[name] = _lines(str(submitted.get(name, "")))
                if form_field.kind == "choice":
                    values[f"{name}_kind"] = str(submitted.get(f"{name}_kind", form_field.choices[0]))
        variants = [VariantForm.from_submitted(tag, submitted) for tag in submitted_tags(submitted)]
        schema = submitted.get(SCHEMA_INPUT)
        sample = _lines(str(submitted.get("sample_data", "{}")))
        layout = submitted.get(LAYOUT_INPUT)
        schema_text = None if schema is None else _lines(str(schema))
        return cls(values, sample, variants, schema_text, None if layout is None else str(layout).strip())

    def with_locale(self, tag: str) -> PartsForm:
        """The form with an empty fieldset for one more locale (one it has already is not added twice)."""
        tag = tidy_tag(tag)
        if any(variant.tag == tag for variant in self.variants):
            return self
        blank = VariantForm.from_variant(tag, {}, self.body_kinds())
        return replace(self, variants=[*self.variants, blank])

    def body_kinds(self) -> dict[str, str]:
        """The language of each multi-language body (`email_body_kind` -> `mjml`): a new variant's default."""
        return {k: str(v) for k, v in self.values.items() if k.endswith("_kind")}

    def normalised(self) -> PartsForm:
        """The same form with LF line endings in every text field."""
        texts = {k: _lines(v) if isinstance(v, str) else v for k, v in self.values.items()}
        return replace(self, values=texts, sample_data=_lines(self.sample_data))

    def fieldsets(self) -> list[Fieldset]:
        """One fieldset per channel, in registry order, with the current values."""
        sets = []
        for spec in all_channels():
            views = []
            for form_field in spec.form_fields:
                name = input_name(spec, form_field)
                chosen = str(
                    self.values.get(f"{name}_kind", form_field.choices[0] if form_field.choices else "")
                )
                value = self.values.get(name, False if form_field.kind == "flag" else "")
                views.append(
                    FieldView(
                        form_field.kind,
                        form_field.label,
                        name,
                        value,
                        form_field.choices,
                        chosen,
                        form_field.editor,
                    )
                )
            sets.append(Fieldset(spec.label, views))
        return sets

    def variant_fieldsets(self) -> list[VariantFieldset]:
        """One fieldset per locale variant, each with a fieldset per channel of the fields it overrides."""
        return [self.variant_fieldset(variant) for variant in self.variants]

    def variant_fieldset(self, variant: VariantForm) -> VariantFieldset:
        """A variant's fields: as the default parts', but named for the locale and empty where inherited;
        only the channels the default parts have (a variant cannot add one), and any the variant names."""
        shown = set(self.parts()) | set(variant.overrides())
        sets = []
        for spec, fieldset in zip(all_channels(), self.fieldsets(), strict=True):
            if spec.key in shown:
                views = [_variant_view(variant, view) for view in fieldset.fields]
                sets.append(Fieldset(fieldset.legend, views))
        return VariantFieldset(variant.tag, variant.label, sets)

    def blank_variant_fieldset(self) -> VariantFieldset:
        """An empty variant for the page to copy when the author adds a locale (tag `BLANK_TAG`)."""
        return self.variant_fieldset(VariantForm.from_variant(BLANK_TAG, {}, self.body_kinds()))

    def locale_tags(self) -> list[str]:
        return [variant.tag for variant in self.variants]

    def parts(self) -> dict[str, Any]:
        """Only the channels the author filled in: a part whose text fields are all empty is left out."""
        parts: dict[str, Any] = {}
        for spec in all_channels():
            part = self._part(spec)
            if part is not None:
                parts[spec.key] = part
        return parts

    def _part(self, spec: ChannelSpec) -> dict[str, Any] | None:
        part: dict[str, Any] = {}
        filled = False
        for form_field in spec.form_fields:
            name = input_name(spec, form_field)
            value = self.values.get(name)
            if form_field.kind == "flag":
                part[form_field.name] = bool(value)
                continue
            if not isinstance(value, str) or not value.strip():
                continue
            filled = True
            if form_field.kind == "choice":
                kind = str(self.values.get(f"{name}_kind", ""))
                part[kind if kind in form_field.choices else form_field.choices[0]] = value
            else:
                part[form_field.name] = value
        return part if filled else None

    def sample(self) -> Any:
        try:
            return json.loads(self.sample_data or "{}")
        except json.JSONDecodeError as error:
            message = f"sample data is not valid JSON: {error}"
            raise FormErrors([message], {SAMPLE_DATA_INPUT: [message]}) from None

    def locales(self) -> dict[str, Any]:
        """Each locale's overrides; a locale given twice (`de_CH` and `de-CH`) is refused at its fieldset."""
        locales: dict[str, Any] = {}
        for variant in self.variants:
            if variant.tag in locales:
                message = f"the locale {variant.tag!r} has two fieldsets: give each locale once"
                raise FormErrors([message], {f"{VARIANT_PREFIX}{variant.tag}": [message]})
            locales[variant.tag] = variant.overrides()
        return {tag: overrides for tag, overrides in locales.items() if overrides}

    def data_schema(self) -> dict[str, Any] | bool | None:
        """The schema typed: an object, False for none, None (empty) for one proposed from the variables."""
        text = (self.schema or "").strip()
        if not text:
            return None
        try:
            schema = json.loads(text)
        except json.JSONDecodeError as error:
            message = f"the data schema is not valid JSON: {error}"
            raise FormErrors([message], {SCHEMA_INPUT: [message]}) from None
        if schema is False or isinstance(schema, dict):
            return schema
        message = "the data schema must be a JSON object (a JSON Schema), or false for none"
        raise FormErrors([message], {SCHEMA_INPUT: [message]})

    def layout_pin(self) -> dict[str, Any] | Literal[False] | None:
        """The layout chosen as a pin; False for none chosen; None when the form has no layout field."""
        if self.layout is None:
            return None
        if not self.layout:
            return False
        key, _, number = self.layout.rpartition("@")
        if not key or not number.isdigit():
            message = f"the layout is chosen as key@version, not {self.layout[:80]!r}"
            raise FormErrors([message], {LAYOUT_INPUT: [message]})
        return {"key": key, "version": int(number)}

    def content(self) -> dict[str, Any]:
        """The request body's content fields: parts, locales, sample data, the layout chosen and (when
        typed) the schema."""
        body = {"parts": self.parts(), "locales": self.locales(), "sample_data": self.sample()}
        if layout := self.layout_pin():
            body["layout"] = layout
        schema = self.data_schema()
        return body if schema is None else {**body, "schema": schema}

    def version_request(self) -> VersionCreate:
        return _validated(VersionCreate, self.content())

    def template_request(self, key: str, name: str, category: str, description: str) -> TemplateCreate:
        body = {
            "key": key,
            "name": name,
            "category": category,
            "description": _lines(description),
            **self.content(),
        }
        return _validated(TemplateCreate, body)


def _schema_text(data_schema: dict[str, Any] | bool | None) -> str:
    if data_schema is None or data_schema is True:
        return ""
    return json.dumps(data_schema, indent=2, ensure_ascii=False) if isinstance(data_schema, dict) else "false"


def _variant_view(variant: VariantForm, view: FieldView) -> FieldView:
    """A default-part field as a variant shows it: its own value, a flag as "as the default"/yes/no."""
    name = variant_input(variant.tag, view.name)
    value = variant.values.get(view.name, "")
    if view.kind == "flag":
        return FieldView("inherit", view.label, name, value, FLAG_CHOICES)
    chosen = variant.values.get(f"{view.name}_kind", view.chosen)
    return replace(view, name=name, value=value, chosen=chosen)


def _validated(model: type[Request], body: dict[str, Any]) -> Request:
    try:
        return model.model_validate(body)
    except ValidationError as error:
        messages = [_message(e) for e in error.errors()]
        inputs: dict[str, list[str]] = {}
        for problem, message in zip(error.errors(), messages, strict=True):
            name = input_for_field(".".join(str(step) for step in problem.get("loc", ())))
            if name:
                inputs.setdefault(name, []).append(message)
        raise FormErrors(messages, inputs) from None


def _message(error: Any) -> str:
    where = ".".join(str(part) for part in error.get("loc", ()))
    text = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {text}" if where else text


@dataclass
class NewTemplateForm:
    """The "New template" form: identity fields plus the first version's parts."""

    key: str = ""
    name: str = ""
    category: str = "transactional"
    description: str = ""
    parts: PartsForm | None = None

    def request(self) -> TemplateCreate:
        parts = self.parts or PartsForm()
        return parts.template_request(self.key.strip(), self.name.strip(), self.category, self.description)
