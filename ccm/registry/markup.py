"""What an HTML (or MJML) template source references, with where: elements and their attributes, and the
`url(...)` / `@import` references of its stylesheets, each with its line in the source.

Read from the source, not a render, so a line number is one the author sees in the editor. Jinja in the
source passes through the standard library's lenient parser as text; a value that holds a template
expression is the caller's to skip (`has_expression`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

_CSS_REFERENCE = re.compile(
    r"""url\(\s*(['"]?)(?P<url>[^'")]*)\1\s*\)|@import\s+(['"])(?P<imported>[^'"]*)\3"""
)


@dataclass(frozen=True)
class Element:
    tag: str
    attributes: dict[str, str | None]
    line: int
    column: int


@dataclass(frozen=True)
class Reference:
    """A URL the document names (`src`, `href`, CSS `url(...)`), and the line it is on."""

    url: str
    line: int


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.styles: list[tuple[str, int]] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line, column = self.getpos()
        self.elements.append(Element(tag, dict(attrs), line, column + 1))
        self._in_style = tag in ("style", "mj-style")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self._in_style = False

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append((data, self.getpos()[0]))


@dataclass(frozen=True)
class Document:
    elements: list[Element]
    styles: list[tuple[str, int]]
    """Each stylesheet text (a `<style>` element's content) and the line it starts on."""


def scan(source: str) -> Document:
    """Every element and stylesheet of an HTML or MJML source."""
    scanner = _Scanner()
    scanner.feed(source)
    scanner.close()
    return Document(scanner.elements, scanner.styles)


def css_references(css: str, first_line: int = 1) -> list[Reference]:
    """The `url(...)` and `@import` targets of a stylesheet, with their lines (it starts on `first_line`)."""
    return [
        Reference(
            (match["url"] if match["url"] is not None else match["imported"]).strip(),
            first_line + css.count("\n", 0, match.start()),
        )
        for match in _CSS_REFERENCE.finditer(css)
    ]


def references(document: Document) -> list[Reference]:
    """Every URL the document would load or link: `src` and `href` attributes, and CSS in `<style>` and
    `style` attributes."""
    found = [
        Reference(value.strip(), element.line)
        for element in document.elements
        for name, value in element.attributes.items()
        if name in ("src", "href") and value
    ]
    for element in document.elements:
        found += css_references(element.attributes.get("style") or "", element.line)
    for css, line in document.styles:
        found += css_references(css, line)
    return found


def has_expression(value: str) -> bool:
    """Whether a value holds Jinja (`{{ url }}`), whose result cannot be known from the source."""
    return "{{" in value or "{%" in value
