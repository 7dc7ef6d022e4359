"""MJML -> HTML with MRML (mjml-python), keeping the `mj-style inline` CSS that MRML would not inline."""

from __future__ import annotations

import re

import mjml

from renderers.errors import TemplateSourceError
from renderers.nesting import check_nesting

_INLINE_STYLE = re.compile(
    r"<mj-style\b[^>]*\binline\s*=\s*([\"'])inline\1[^>]*>(?P<css>.*?)</mj-style\s*>", re.I | re.S
)
_JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.S)


def split_inline_styles(source: str) -> tuple[str, str]:
    """Remove `<mj-style inline="inline">` blocks and return (mjml, their css) for css-inline's extra_css."""
    css = [match.group("css") for match in _INLINE_STYLE.finditer(source)]
    return _INLINE_STYLE.sub("", source), "\n".join(css)


def compile_mjml(source: str) -> tuple[str, str]:
    """Compile rendered MJML; return (html, css to inline). Invalid MJML is a TemplateSourceError.

    The nesting bound comes first: MRML recurses per level and a stack overflow there ends the process.
    """
    mjml_source, inline_css = split_inline_styles(source)
    check_nesting(mjml_source, html=False, field="mjml")
    try:
        html = mjml.mjml2html(mjml_source, disable_comments=True)
    except ValueError as exc:
        raise TemplateSourceError(f"invalid MJML: {exc}", field="mjml") from None
    except MemoryError:
        raise TemplateSourceError("the MJML is too large to compile", field="mjml") from None
    return html, inline_css


def check_mjml(source: str) -> None:
    """Save-time structural check: Jinja tags blanked out (both branches kept), then MRML must parse it."""
    compile_mjml(_JINJA.sub(lambda m: "x" if m.group().startswith("{{") else "", source))
