"""Input rules shared by every API shape: text the database can store, JSON the renderers can use."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

from pydantic import AfterValidator, StringConstraints

SOURCE_LIMIT = 512 * 1024
"""The largest template source (a body, a stylesheet) anyone may store."""
MAX_JSON_DEPTH = 20
MAX_JSON_ITEMS = 10_000


def _refuse_control_characters(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _refuse_line_breaks(value: str) -> str:
    if any(char in value for char in "\x00\r\n"):
        raise ValueError("must be a single line without control characters")
    return value


Text = Annotated[str, AfterValidator(_refuse_control_characters)]
"""Free text: anything but NUL, which PostgreSQL cannot store."""

Line = Annotated[str, AfterValidator(_refuse_line_breaks)]
"""A single line (names, subjects, identifiers): no CR, LF or NUL."""

IDENTIFIER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@+\-]*$"
IDENTIFIER_LIMIT = 200
Identifier = Annotated[
    str,
    StringConstraints(min_length=1, max_length=IDENTIFIER_LIMIT, pattern=IDENTIFIER_PATTERN),
]
"""An external identifier as CRMs issue them: letters, digits and . _ : @ + -, 1-200 characters."""

TemplateKey = Annotated[
    str, StringConstraints(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9_\-]*$")
]


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
"""Half a UTF-16 pair, which JSON may escape (`"\\ud800"`): Python reads it; no database stores it."""


def check_json_document(value: Any, *, path: str = "") -> Any:
    """Refuse JSON the pipeline cannot faithfully store or render: NULs, absurd depth or size."""
    if is_plain_flat(value):
        return value  # what the walk below decides for it, without the walk (an imported row's attributes)
    return _walked(value, path)


def is_plain_flat(value: Any) -> bool:
    """Whether `value` is an object whose keys and values `check_json_document` accepts at a glance: fewer
    than its item limit, ASCII keys and text without NUL, numbers that are not NaN, booleans and nulls."""
    if type(value) is not dict or len(value) >= MAX_JSON_ITEMS:
        return False
    for key, item in value.items():
        if type(key) is not str or not key.isascii() or "\x00" in key:
            return False
        kind = type(item)
        if kind is str:
            if not item.isascii() or "\x00" in item:
                return False
        elif kind is float:
            if item != item:
                return False
        elif kind is not int and kind is not bool and item is not None:
            return False
    return True


def _walked(value: Any, path: str) -> Any:
    count = 0

    def walk(node: Any, where: str, depth: int) -> None:
        nonlocal count
        count += 1
        if count > MAX_JSON_ITEMS:
            raise ValueError(f"{path or 'document'} has more than {MAX_JSON_ITEMS} values")
        if depth > MAX_JSON_DEPTH:
            raise ValueError(f"{where or path} is nested deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(node, str):
            if "\x00" in node:
                raise ValueError(f"{where or path} must not contain NUL characters")
            if _LONE_SURROGATE.search(node):
                raise ValueError(f"{where or path} is not valid Unicode (a lone surrogate)")
        elif isinstance(node, dict):
            for key, child in node.items():
                if not isinstance(key, str) or "\x00" in key or _LONE_SURROGATE.search(key):
                    raise ValueError(f"{where or path} has a key with a NUL character or a lone surrogate")
                walk(child, f"{where}.{key}" if where else key, depth + 1)
        elif isinstance(node, list):
            for index, child in enumerate(node):
                walk(child, f"{where}[{index}]", depth + 1)
        elif isinstance(node, float) and node != node:  # NaN
            raise ValueError(f"{where or path} is not a number")

    walk(value, "", 0)
    return value


JsonObject = Annotated[dict[str, Any], AfterValidator(check_json_document)]


def is_uuid(value: str) -> bool:
    """Whether `value` parses as a UUID (message ids are), so other strings never reach a primary key."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
