"""A bound on element nesting, checked before markup reaches MRML or css-inline.

Both are Rust parsers that recurse once per nesting level, and a stack overflow there is no exception: it
kills the whole process (SIGSEGV), API or worker. Measured on an 8 MiB thread stack, MRML dies near 2,000
nested `<mj-wrapper>`s and css-inline near 20,000 nested `<div>`s; on a 512 KiB stack MRML dies below 150.
No real email comes near `MAX_DEPTH`, so refusing deeper markup costs nothing and keeps a template, or data
poured into one, from taking the process down.
"""

from __future__ import annotations

import re

from renderers.errors import TemplateSourceError

MAX_DEPTH = 100
_TOKEN = re.compile(
    r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<(/?)([A-Za-z][^\s/<>]*)(?:[^<>\"']|\"[^\"]*\"|'[^']*')*>", re.S
)
_VOID = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param", "source",
    "track", "wbr",
})  # fmt: skip
# HTML parsers end an open one of these (and what is inside it) when another starts in the same list or
# table, so `<li>a<li>b` and `<tr><td>a<tr><td>b` do not nest; the search stops at the enclosing container.
_IMPLIED_END = frozenset({"p", "li", "dt", "dd", "tr", "td", "th", "option"})
_CONTAINERS = frozenset({"table", "ul", "ol", "dl", "select", "datalist"})


def nesting_depth(markup: str, *, html: bool, limit: int = MAX_DEPTH) -> int:
    """The deepest element nesting, comments and void elements aside; counting stops just past `limit`.

    `html=True` follows HTML's implied end tags (`<li>a<li>b` is not nested); MJML (`html=False`) is parsed
    as XML by MRML, where an unclosed `<p>` really does nest.
    """
    stack: list[str] = []
    deepest = 0
    for match in _TOKEN.finditer(markup):
        closing, name = match.group(1), match.group(2)
        if name is None:  # a comment or a CDATA section
            continue
        name = name.lower()
        if closing:
            if name in stack:
                del stack[len(stack) - 1 - stack[::-1].index(name) :]
            continue
        if name in _VOID or match.group(0).endswith("/>"):
            continue
        if html and name in _IMPLIED_END:
            _close_implied(stack, name)
        stack.append(name)
        deepest = max(deepest, len(stack))
        if deepest > limit:
            break
    return deepest


def _close_implied(stack: list[str], name: str) -> None:
    """Drop an open `name` (and what it holds) unless a container starts between it and the top."""
    for index in range(len(stack) - 1, -1, -1):
        if stack[index] == name:
            del stack[index:]
            return
        if stack[index] in _CONTAINERS:
            return


def check_nesting(markup: str, *, html: bool, field: str, limit: int = MAX_DEPTH) -> None:
    """TemplateSourceError when elements nest deeper than `limit`, before a parser that would crash on it."""
    if nesting_depth(markup, html=html, limit=limit) > limit:
        raise TemplateSourceError(f"elements are nested more than {limit} levels deep", field=field)
