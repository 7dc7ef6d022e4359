"""Email rendering: Jinja first, then MJML, CSS inlining, link tracking and the open pixel, in that order.

Jinja always runs on the author's source before any HTML tool touches it, so MJML compilation and CSS
inlining can never corrupt `{% for %}` loops, `>` comparisons or expressions inside `href`s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from renderers.environment import check_syntax, render_text
from renderers.errors import RenderError
from renderers.html_post import add_open_pixel, inline_css, rewrite_links
from renderers.library import with_layout
from renderers.limits import check_email_bytes
from renderers.mime import control_character
from renderers.mjml_compiler import check_mjml, compile_mjml
from renderers.nesting import check_nesting
from renderers.plaintext import html_to_text


@dataclass(frozen=True)
class EmailTemplate:
    """The author's parts: a subject plus an MJML or an HTML body, and optionally a hand-written text part."""

    subject: str
    mjml: str | None = None
    html: str | None = None
    text: str | None = None
    library: Mapping[str, str] = dataclass_field(default_factory=dict, hash=False)
    """The pinned partials by key, and layouts (`renderers.library`); includes reach only these."""
    layout: str | None = None
    """The library entry wrapping the body, whose `content` block the body is (None: no layout)."""

    def body_source(self, source: str) -> str:
        return with_layout(source, self.layout)


@dataclass(frozen=True)
class RenderedEmail:
    """What one recipient receives, ready for `renderers.mime.build_email_message`."""

    subject: str
    html: str
    text: str


@contextmanager
def field_errors(field: str) -> Iterator[None]:
    """Tag errors with the part they come from, so the editor can point at it."""
    try:
        yield
    except RenderError as exc:
        if exc.field is None:
            exc.field = field
        raise


def render_subject(
    source: str,
    context: Mapping[str, Any],
    *,
    locale: str,
    timezone: str,
    library: Mapping[str, str] | None = None,
) -> str:
    """Subject without escaping; a CR, LF, NUL or other control character in the result would be a header
    injection or a broken header, so it is refused here, where the preview can name the subject."""
    with field_errors("subject"):
        subject = render_text(source, context, locale=locale, timezone=timezone, library=library)
    subject = subject.strip(" \t")
    if control := control_character(subject):
        detail = f"the subject must be a single line of text (it contains a control character: {control})"
        raise RenderError(detail, field="subject")
    return subject


def _render_body(template: EmailTemplate, context: Mapping[str, Any], locale: str, timezone: str) -> str:
    """Jinja (autoescaped) on the source, then MJML when the body is MJML, then CSS inlining."""
    field = "mjml" if template.mjml is not None else "html"
    source = template.mjml if template.mjml is not None else template.html
    if source is None:
        raise RenderError("an email template needs an MJML or an HTML body", field="html")
    with field_errors(field):
        rendered = render_text(
            template.body_source(source),
            context,
            locale=locale,
            timezone=timezone,
            autoescape=True,
            library=template.library,
        )
    extra_css = ""
    if template.mjml is not None:
        rendered, extra_css = compile_mjml(rendered)  # bounds the MJML's nesting, and so the HTML's
    else:
        check_nesting(rendered, html=True, field="html")  # css-inline recurses per level too
    return inline_css(rendered, extra_css)


def render_email(
    template: EmailTemplate,
    context: Mapping[str, Any],
    *,
    locale: str = "en",
    timezone: str = "UTC",
    link_rewriter: Callable[[str], str] | None = None,
    open_pixel_url: str | None = None,
) -> RenderedEmail:
    """Render subject, HTML and text for one recipient; every failure is a RenderError with its field."""
    subject = render_subject(
        template.subject, context, locale=locale, timezone=timezone, library=template.library
    )
    html = _render_body(template, context, locale, timezone)
    check_email_bytes(html)
    if link_rewriter is not None:
        html = rewrite_links(html, link_rewriter)
    if open_pixel_url is not None:
        html = add_open_pixel(html, open_pixel_url)
    if template.text is not None:
        with field_errors("text"):
            text = render_text(
                template.text, context, locale=locale, timezone=timezone, library=template.library
            )
    else:
        text = html_to_text(html)
    return RenderedEmail(subject=subject, html=html, text=text)


def check_email_template(template: EmailTemplate) -> None:
    """Syntax-check every part at save time: TemplateSourceError (or UnsafeTemplateError) with its field."""
    if template.mjml is None and template.html is None:
        raise RenderError("an email template needs an MJML or an HTML body", field="html")
    parts = {"subject": template.subject, "mjml": template.mjml, "html": template.html, "text": template.text}
    for field, source in parts.items():
        if source is not None:
            with field_errors(field):
                body = field in ("mjml", "html")
                check_syntax(template.body_source(source) if body else source, template.library)
    if template.mjml is not None:
        check_mjml(template.mjml)
    if template.html is not None:
        check_nesting(template.html, html=True, field="html")
