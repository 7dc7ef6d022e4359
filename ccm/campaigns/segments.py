"""Segments: attribute rules (`all`/`any` of conditions) validated once, then matched per customer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ccm.customers.models import Customer

OPS = ("eq", "ne", "in", "not_in", "exists", "gt", "lt", "contains")
CUSTOMER_FIELDS = ("external_id", "email", "phone", "locale", "timezone")
MAX_DEPTH = 5
MAX_CONDITIONS = 100
_MISSING = object()


class SegmentError(ValueError):
    """A rule that cannot be used; `path` points into the request (`segment.all[1].op`)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass(frozen=True)
class Condition:
    attribute: str
    op: str
    value: Any

    def matches(self, customer: Customer) -> bool:
        return _apply(self.op, _lookup(customer, self.attribute), self.value)


@dataclass(frozen=True)
class Group:
    mode: str  # "all" or "any"
    rules: tuple[Condition | Group, ...]

    def matches(self, customer: Customer) -> bool:
        results = (rule.matches(customer) for rule in self.rules)
        return all(results) if self.mode == "all" else any(results)


def parse_segment(raw: dict[str, Any], path: str = "segment") -> Group:
    """A validated rule tree; `{}` and `{"all": []}` select every customer."""
    counter = [0]
    return _group(raw or {"all": []}, path, 0, counter)


def _group(raw: Any, path: str, depth: int, counter: list[int]) -> Group:
    if not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in ("all", "any"):
        raise SegmentError(path, 'must be an object with exactly one key, "all" or "any"')
    if depth >= MAX_DEPTH:
        raise SegmentError(path, f"is nested deeper than {MAX_DEPTH} levels")
    mode, rules = next(iter(raw.items()))
    if not isinstance(rules, list):
        raise SegmentError(f"{path}.{mode}", "must be a list of rules")
    parsed: list[Condition | Group] = []
    for index, rule in enumerate(rules):
        where = f"{path}.{mode}[{index}]"
        if isinstance(rule, dict) and ("all" in rule or "any" in rule):
            parsed.append(_group(rule, where, depth + 1, counter))
        else:
            counter[0] += 1
            if counter[0] > MAX_CONDITIONS:
                raise SegmentError(where, f"a segment may hold at most {MAX_CONDITIONS} conditions")
            parsed.append(_condition(rule, where))
    return Group(mode, tuple(parsed))


def _condition(raw: Any, path: str) -> Condition:
    if not isinstance(raw, dict):
        raise SegmentError(path, 'must be {"attribute": ..., "op": ..., "value": ...} or a group')
    unknown = sorted(set(raw) - {"attribute", "op", "value"})
    if unknown:
        raise SegmentError(f"{path}.{unknown[0]}", "unknown key")
    attribute, op = raw.get("attribute"), raw.get("op")
    if not isinstance(attribute, str) or not 1 <= len(attribute) <= 100:
        raise SegmentError(f"{path}.attribute", "must be an attribute name (1-100 characters)")
    if op not in OPS:
        raise SegmentError(f"{path}.op", f"must be one of {', '.join(OPS)}")
    value = raw.get("value", True if op == "exists" else _MISSING)
    _check_value(op, value, f"{path}.value")
    return Condition(attribute, op, value)


def _check_value(op: str, value: Any, path: str) -> None:
    if value is _MISSING:
        raise SegmentError(path, f"is required for '{op}'")
    if op in ("in", "not_in") and not (isinstance(value, list) and len(value) <= 1000):
        raise SegmentError(path, f"must be a list (at most 1000 items) for '{op}'")
    if op == "exists" and not isinstance(value, bool):
        raise SegmentError(path, "must be true or false for 'exists'")
    if op in ("gt", "lt") and (isinstance(value, bool) or not isinstance(value, int | float | str)):
        raise SegmentError(path, f"must be a number or a string for '{op}'")
    if op in ("eq", "ne", "contains") and isinstance(value, dict | list):
        raise SegmentError(path, f"must be a single value for '{op}'")


def _lookup(customer: Customer, attribute: str) -> Any:
    """Customer fields by name; anything else from the attributes, a dotted name reaching into objects."""
    if attribute in CUSTOMER_FIELDS:
        value = getattr(customer, attribute)
        return _MISSING if value in (None, "") else value
    node: Any = customer.attributes
    for part in attribute.split("."):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return _MISSING if node is None else node


def _apply(op: str, actual: Any, expected: Any) -> bool:
    if op == "exists":
        return (actual is not _MISSING) is expected
    if op in ("ne", "not_in"):
        return not _apply("eq" if op == "ne" else "in", actual, expected)
    if actual is _MISSING:
        return False
    if op == "eq":
        return bool(actual == expected) and isinstance(actual, bool) == isinstance(expected, bool)
    if op == "in":
        return any(_apply("eq", actual, item) for item in expected)
    if op == "contains":
        if isinstance(actual, str):
            return isinstance(expected, str) and expected in actual
        return isinstance(actual, list) and any(_apply("eq", item, expected) for item in actual)
    return _compare(op, actual, expected)


def _compare(op: str, actual: Any, expected: Any) -> bool:
    """gt/lt between two numbers or two strings (ISO dates compare as strings); other pairs never match."""
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (actual, expected))
    strings = isinstance(actual, str) and isinstance(expected, str)
    if not (numbers or strings):
        return False
    return bool(actual > expected) if op == "gt" else bool(actual < expected)
