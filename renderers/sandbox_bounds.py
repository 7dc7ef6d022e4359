"""Bounds on the template operations that allocate in one step: padding, format widths, `%`, `~` and lipsum.

Jinja's sandbox already bounds `range` and (with `CcmEnvironment.call_binop`) `*` and `**`, but
`'x'.ljust(10**9)`, `'{:>999999999}'.format(1)`, `'%999999999s' % 1`, a doubling `~` in a loop or
`lipsum(10**6)` each ask for gigabytes in a single call, before any output limit can see them. These are
refused up front with a `SecurityError` naming what was too large; the render process's memory limit is
the backstop for whatever else there is.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from typing import Any

from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import markup_join, str_join
from jinja2.utils import generate_lorem_ipsum
from jinja2.visitor import NodeTransformer

MAX_SIZE = 5_000_000
"""No single value a template builds may be longer than the largest output it may produce."""
PADDING_METHODS = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs"})
_PRINTF_FIELD = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_DIGITS = re.compile(r"\d+")
MAX_LIPSUM_PARAGRAPHS = 100
MAX_LIPSUM_WORDS = 1000


def check_call(obj: Any, args: tuple[Any, ...]) -> None:
    """Refuse a padding call whose width alone would exceed MAX_SIZE (`str.format` is checked when the
    sandbox wraps it: `check_format_widths`)."""
    name = getattr(obj, "__name__", "")
    if isinstance(getattr(obj, "__self__", None), str) and name in PADDING_METHODS:
        width = args[0] if args else 8 if name == "expandtabs" else 0
        if isinstance(width, int) and not isinstance(width, bool):
            owner: str = obj.__self__
            size = width * owner.count("\t") if name == "expandtabs" else width
            if size > MAX_SIZE:
                raise SecurityError(f"{name}() width {width} is too large")


def check_format_widths(fmt: str) -> None:
    """`str.format` fields: widths and precisions in the spec, and nested `{}` specs."""
    for _, _, spec, _ in string.Formatter().parse(fmt):
        for number in _DIGITS.findall(spec or ""):
            if int(number) > MAX_SIZE:
                raise SecurityError(f"format width {number} is too large")


def check_printf(fmt: str, values: Any) -> None:
    """`fmt % values`: literal and `*` widths and precisions."""
    starred = iter(values if isinstance(values, tuple) else (values,))
    for match in _PRINTF_FIELD.finditer(fmt):
        for part in match.groups():
            width = next(starred, 0) if part == "*" else int(part) if part else 0
            if isinstance(width, int) and not isinstance(width, bool) and width > MAX_SIZE:
                raise SecurityError(f"% format width {width} is too large")


def bounded_lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
    """Jinja's `lipsum` global with the paragraph and word counts capped."""
    if n > MAX_LIPSUM_PARAGRAPHS or max > MAX_LIPSUM_WORDS or min > MAX_LIPSUM_WORDS:
        raise SecurityError(
            f"lipsum takes at most {MAX_LIPSUM_PARAGRAPHS} paragraphs of {MAX_LIPSUM_WORDS} words"
        )
    return str(generate_lorem_ipsum(n=n, html=html, min=min, max=max))


def bounded_concat(items: Iterable[Any], autoescape: bool) -> str:
    """What `a ~ b ~ c` compiles to, refusing a result longer than MAX_SIZE before it is built."""
    values = list(items)
    if sum(len(value) if isinstance(value, str) else 32 for value in values) > MAX_SIZE:
        raise SecurityError("concatenated string is too large")
    joined: str = markup_join(values) if autoescape else str_join(values)
    return joined


class ConcatBounder(NodeTransformer):
    """Rewrites every `~` (a `Concat` node) into a call of `bounded_concat`, before the template compiles."""

    def __init__(self, autoescape: bool) -> None:
        self.autoescape = autoescape

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        operands = [self.visit(child) for child in node.nodes]
        return nodes.Call(
            nodes.Name("__ccm_concat", "load", lineno=node.lineno),
            [nodes.List(operands, lineno=node.lineno), nodes.Const(self.autoescape, lineno=node.lineno)],
            [],
            None,
            None,
            lineno=node.lineno,
        )
