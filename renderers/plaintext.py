"""Readable plain text from email HTML, for the text/plain alternative when no text part is written."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIP = {"head", "style", "script", "title", "template", "noscript"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_BLOCK = {
    "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "table", "tr", "ul", "ol", "li",
    "blockquote", "section", "article", "header", "footer", "hr", "center", "pre",
}  # fmt: skip
_LINES = {"tr", "li", "br"}
_HIDDEN = re.compile(r"display\s*:\s*none|mso-hide\s*:\s*all", re.I)


class _TextExtractor(HTMLParser):
    """Collects visible text; blocks and table rows become lines, cells are separated by spaces."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.skip_stack: list[str] = []
        self.links: list[tuple[str, int]] = []

    def _break(self, *, blank: bool = True) -> None:
        """End the current line; `blank` also leaves one empty line (paragraphs, not table rows)."""
        line = re.sub(r"\s+", " ", "".join(self.current)).strip()
        if line:
            self.lines.append(line)
        if blank and self.lines and self.lines[-1]:
            self.lines.append("")
        self.current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if self.skip_stack:
            if tag == self.skip_stack[-1]:
                self.skip_stack.append(tag)
            return
        if tag not in _VOID and (tag in _SKIP or _HIDDEN.search(attributes.get("style") or "")):
            self.skip_stack.append(tag)
            return
        if tag in _BLOCK or tag == "br":
            self._break(blank=tag not in _LINES)
        if tag == "li":
            self.current.append("- ")
        elif tag in ("td", "th"):
            self.current.append(" ")
        elif tag == "a":
            self.links.append((attributes.get("href") or "", len("".join(self.current))))

    def handle_endtag(self, tag: str) -> None:
        if self.skip_stack:
            if tag == self.skip_stack[-1]:
                self.skip_stack.pop()
            return
        if tag == "a" and self.links:
            href, start = self.links.pop()
            label = "".join(self.current)[start:].strip()
            if href.lower().startswith(("http://", "https://", "mailto:")) and href not in label:
                self.current.append(f" ({href.removeprefix('mailto:')})" if label else href)
        if tag in _BLOCK:
            self._break(blank=tag not in _LINES)

    def handle_data(self, data: str) -> None:
        if not self.skip_stack:
            self.current.append(data)


def html_to_text(document: str) -> str:
    """Headings and paragraphs become lines, table rows one line each, links `text (url)`."""
    parser = _TextExtractor()
    parser.feed(document)
    parser.close()
    parser._break(blank=False)
    return "\n".join(parser.lines).strip() + "\n"
