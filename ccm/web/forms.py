"""The authoring form: a template version's parts as flat form fields, and back into an API request.

The fields come from the channel specs (`ChannelSpec.form_fields`), so a registered channel gets its
fieldset without a change here. An input is named `<channel>_<field>`; a body that may be written in one of
several languages (an email's MJML or HTML) is a textarea plus a `<channel>_<field>_kind` select. Kept free
of FastAPI so the round trip (version -> form -> request) can be reasoned about on its own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from pydantic import ValidationError

from ccm.channels import ChannelSpec, FormField, all_channels
from ccm.registry.schemas import TemplateCreate, VersionCreate

Request = TypeVar("Request", VersionCreate, TemplateCreate)
TEXT_KINDS = ("line", "text", "code", "choice")


class FormErrors(Exception):
    """Every problem found in a submitted form, phrased for the person who filled it in."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


def _lines(value: str) -> str:
    """Browsers submit textareas with CRLF; templates are stored with LF."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def input_name(spec: ChannelSpec, form_field: FormField) -> str:
    return f"{spec.key}_{form_field.name}"


SAMPLE_DATA_INPUT = "sample_data"


def input_for_field(api_field: str | None) -> str | None:
    """The form input an API error's `field` points at (`parts.email.html` -> `email_body`), if any.

    The live preview shows an error beside the field the author is typing in, so the API's names for a
    template's places (with or without the `parts.` prefix, or just the channel) are mapped back to inputs;
    a data error belongs to the sample data.
    """
    if not api_field:
        return None
    path = api_field.removeprefix("parts.").split(".")
    if path[0] in ("data", SAMPLE_DATA_INPUT):
        return SAMPLE_DATA_INPUT
    spec = next((s for s in all_channels() if s.key == path[0]), None)
    if spec is None:
        return None
    inner = path[1] if len(path) > 1 else spec.source_field
    for form_field in spec.form_fields:
        if inner == form_field.name or inner in form_field.choices:
            return input_name(spec, form_field)
    return None


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


@dataclass
class PartsForm:
    values: dict[str, Any] = field(default_factory=dict)
    """Input name -> what was typed (a string) or ticked (a bool)."""
    sample_data: str = "{}"

    @classmethod
    def from_version(cls, parts: Mapping[str, Any], sample_data: dict[str, Any]) -> PartsForm:
        """Pre-fill the form with an existing version, so a new draft starts from it."""
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
        return cls(values, _lines(str(submitted.get("sample_data", "{}"))))

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
            raise FormErrors([f"sample data is not valid JSON: {error}"]) from None

    def version_request(self) -> VersionCreate:
        return _validated(VersionCreate, {"parts": self.parts(), "sample_data": self.sample()})

    def template_request(self, key: str, name: str, category: str, description: str) -> TemplateCreate:
        body = {
            "key": key,
            "name": name,
            "category": category,
            "description": _lines(description),
            "parts": self.parts(),
            "sample_data": self.sample(),
        }
        return _validated(TemplateCreate, body)


def _validated(model: type[Request], body: dict[str, Any]) -> Request:
    try:
        return model.model_validate(body)
    except ValidationError as error:
        raise FormErrors([_message(e) for e in error.errors()]) from None


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
