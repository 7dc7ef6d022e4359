"""The layout and partial forms: a kind's sources (and, to create one, its key and name) as typed, and back
into the API's request shapes (`LIBRARY_SHAPES`), so a version saved here is stored as the API stores it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from ccm.registry.library import SOURCES
from ccm.registry.models import LibraryKind
from ccm.registry.schemas import LIBRARY_SHAPES
from ccm.web.forms import FormErrors

SOURCE_LABELS = {
    "email": "Email layout (HTML or MJML)",
    "pdf": "PDF layout (HTML)",
    "source": "Source",
}
"""How the forms and pages name each source field of `ccm.registry.library.SOURCES`."""


@dataclass(frozen=True)
class SourceField:
    name: str
    label: str
    value: str


@dataclass
class LibraryForm:
    """A layout's or partial's form as typed; a refused one is shown again as it was."""

    kind: LibraryKind
    sources: dict[str, str]
    key: str = ""
    name: str = ""
    errors: list[str] = field(default_factory=list)

    @classmethod
    def of_content(cls, kind: LibraryKind, content: Mapping[str, Any]) -> LibraryForm:
        """The form pre-filled with a version's sources (empty ones blank): a new draft starts from it."""
        return cls(kind, {name: content.get(name) or "" for name in SOURCES[kind]})

    @classmethod
    def submitted(cls, kind: LibraryKind, form: Mapping[str, Any]) -> LibraryForm:
        """The posted form; browsers send textareas with CRLF, sources are stored with LF."""
        sources = {name: _lines(str(form.get(name, ""))) for name in SOURCES[kind]}
        return cls(kind, sources, str(form.get("key", "")).strip(), str(form.get("name", "")).strip())

    @property
    def fields(self) -> list[SourceField]:
        return [SourceField(name, SOURCE_LABELS[name], value) for name, value in self.sources.items()]

    def content(self) -> dict[str, Any]:
        """A new version's content, as the API's version route stores it (`FormErrors` when refused)."""
        _, shape = LIBRARY_SHAPES[self.kind]
        return _validated(shape, self._body(shape)).model_dump()

    def created(self) -> tuple[str, str, dict[str, Any]]:
        """Key, name and first version's content, as the API's create route takes them."""
        create, shape = LIBRARY_SHAPES[self.kind]
        body = _validated(create, {**self._body(shape), "key": self.key, "name": self.name}).model_dump()
        return body["key"], body["name"], {name: body[name] for name in shape.model_fields}

    def _body(self, shape: type[BaseModel]) -> dict[str, Any]:
        """A blank optional source (one of a layout's two) is no source at all."""
        return {
            name: None if not value.strip() and not shape.model_fields[name].is_required() else value
            for name, value in self.sources.items()
        }


def _lines(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n")


def _validated(shape: type[BaseModel], body: dict[str, Any]) -> BaseModel:
    try:
        return shape.model_validate(body)
    except ValidationError as error:
        raise FormErrors([_said(problem) for problem in error.errors()]) from None


def _said(problem: Any) -> str:
    where = ".".join(str(step) for step in problem.get("loc", ()))
    text = str(problem.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{SOURCE_LABELS.get(where, where)}: {text}" if where else text
