"""Errors raised by the renderers, so the service can tell authoring mistakes from data gaps and abuse."""

from __future__ import annotations


class RenderError(Exception):
    """Any failure to turn a template and a context into output; `message` is fit to show to an author."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class MissingVariableError(RenderError):
    """The template used a variable the context does not hold; `variable` is its full dotted path."""

    def __init__(self, variable: str, *, field: str | None = None, line: int | None = None) -> None:
        where = f" (line {line})" if line else ""
        super().__init__(f"missing variable '{variable}'{where}", field=field)
        self.variable = variable
        self.line = line


class UnsafeTemplateError(RenderError):
    """The template tried something the sandbox refuses: private attributes, includes, outside fetches."""


class TemplateSourceError(RenderError):
    """The template source itself is invalid: a Jinja syntax error or MJML that does not parse."""
