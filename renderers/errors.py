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


class RenderLimitExceeded(RenderError):
    """A render was stopped at a limit (`cpu`, `timeout`, `memory`, `pdf_pages`, `email_bytes`,
    `sms_segments`): the template asks for more than an author's template may take."""

    def __init__(self, limit: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.limit = limit

    def __reduce__(self) -> tuple[object, ...]:
        return (_limit_exceeded, (self.limit, self.message, self.field))


def _limit_exceeded(limit: str, message: str, field: str | None) -> RenderLimitExceeded:
    return RenderLimitExceeded(limit, message, field=field)


class CompositionError(RenderError):
    """The rendered parts cannot be assembled into a valid message (text that is not valid Unicode, a value a
    header cannot carry). It depends only on the inputs, so no retry can fix it: the message fails at once."""


class HeaderError(CompositionError):
    """A value bound for a header (subject, sender, recipient, attachment filename, extra header) is refused:
    a control character, an address that is not exactly one mailbox, a domain that is not a valid IDN."""

    def __init__(self, message: str, *, header: str = "") -> None:
        super().__init__(message)
        self.header = header  # the header's name (a default, so the error pickles out of a render process)
