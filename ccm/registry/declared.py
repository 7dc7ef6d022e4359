"""Whether a version's data schema declares a data path a template reads (`invoice.lines[].price`).

A property is declared when an object schema lists it (`properties`, a matching `patternProperties`, or an
`additionalProperties` schema). Below a schema that says nothing about its properties (a string, a
free-form `{"type": "object"}`, a `$ref` or combinator) the path is the data's business, not the
contract's, so nothing there is reported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ccm.registry.data_paths import ITEMS

_OPEN_ENDED = ("$ref", "$dynamicRef", "allOf", "anyOf", "oneOf", "if")
"""Keywords that may declare properties elsewhere: a schema using them is not second-guessed."""
_UNDECLARED = object()


def first_undeclared(schema: Mapping[str, Any], path: Sequence[str]) -> int | None:
    """The index of the first step of `path` the schema does not declare; None when it declares it."""
    node: Any = schema
    for index, step in enumerate(path):
        child = _child(node, step, root=index == 0)
        if child is _UNDECLARED:
            return index
        if not isinstance(child, Mapping):
            return None
        node = child
    return None


def _child(node: Any, step: str, *, root: bool) -> Any:
    """The schema of `node`'s member `step`; `_UNDECLARED`; or None when the schema leaves it open."""
    if not isinstance(node, Mapping):
        return None
    if step == ITEMS:
        return node.get("items")
    properties = node.get("properties")
    if isinstance(properties, Mapping) and step in properties:
        return properties[step]
    patterns = node.get("patternProperties")
    for pattern, schema in (patterns if isinstance(patterns, Mapping) else {}).items():
        if _matches(pattern, step):
            return schema
    if isinstance(node.get("additionalProperties"), Mapping):
        return node["additionalProperties"]
    if any(word in node for word in _OPEN_ENDED):
        return None
    lists_properties = isinstance(properties, Mapping) or isinstance(patterns, Mapping)
    return _UNDECLARED if root or lists_properties else None


def _matches(pattern: str, step: str) -> bool:
    try:
        return re.search(pattern, step) is not None
    except re.error:
        return False
