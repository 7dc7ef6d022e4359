"""Segment rules: a tree of `all`/`any`/`not` over attribute conditions and facts (consent, engagement),
validated once with the path of each bad part; `ccm.customers.segment_sql` turns a tree into a WHERE clause.

Attribute conditions are strict: `true` is not `1`, and `gt`/`lt` compare two numbers or two strings only
(ISO dates compare as strings). A condition on a missing (or `null`) attribute is false, and its `ne`/`not_in`
true. A fact is `{"<kind>": {...}}` of a kind registered in `ccm.customers.segment_facts.FACT_KINDS`.
"""

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
class Fact:
    """A rule about rows beside the customer (consent, engagement): evaluated only in SQL."""

    kind: str
    spec: dict[str, Any]

    def matches(self, customer: Customer) -> bool:
        raise TypeError(f"a '{self.kind}' rule is evaluated in SQL only (ccm.customers.segment_sql)")


@dataclass(frozen=True)
class Not:
    rule: Rule

    def matches(self, customer: Customer) -> bool:
        return not self.rule.matches(customer)


@dataclass(frozen=True)
class Group:
    mode: str  # "all" or "any"
    rules: tuple[Rule, ...]

    def matches(self, customer: Customer) -> bool:
        results = (rule.matches(customer) for rule in self.rules)
        return all(results) if self.mode == "all" else any(results)


Rule = Condition | Fact | Not | Group


def parse_segment(raw: dict[str, Any], path: str = "segment") -> Rule:
    """A validated rule tree; `{}` and `{"all": []}` select every customer."""
    raw = raw or {"all": []}
    if not isinstance(raw, dict) or len(raw) != 1 or not _is_combinator_or_fact(next(iter(raw))):
        raise SegmentError(path, 'must be an object with exactly one key, "all", "any", "not" or a fact')
    return _rule(raw, path, 0, [0])


def _is_combinator_or_fact(key: str) -> bool:
    from ccm.customers.segment_facts import FACT_KINDS  # here: the facts import this module

    return key in ("all", "any", "not") or key in FACT_KINDS


def _rule(raw: Any, path: str, depth: int, counter: list[int]) -> Rule:
    """One rule of any kind, by its single key; anything else must be an attribute condition."""
    from ccm.customers.segment_facts import FACT_KINDS

    key = next(iter(raw)) if isinstance(raw, dict) and len(raw) == 1 else None
    if key in ("all", "any"):
        return _group(raw, path, depth, counter)
    if key == "not":
        if depth >= MAX_DEPTH:
            raise SegmentError(path, f"is nested deeper than {MAX_DEPTH} levels")
        return Not(_rule(raw["not"], f"{path}.not", depth + 1, counter))
    counter[0] += 1
    if counter[0] > MAX_CONDITIONS:
        raise SegmentError(path, f"a segment may hold at most {MAX_CONDITIONS} conditions")
    if key in FACT_KINDS:
        return Fact(key, FACT_KINDS[key].parse(raw[key], f"{path}.{key}"))
    return _condition(raw, path)


def _group(raw: dict[str, Any], path: str, depth: int, counter: list[int]) -> Group:
    if depth >= MAX_DEPTH:
        raise SegmentError(path, f"is nested deeper than {MAX_DEPTH} levels")
    mode, rules = next(iter(raw.items()))
    if not isinstance(rules, list):
        raise SegmentError(f"{path}.{mode}", "must be a list of rules")
    parsed = [_rule(rule, f"{path}.{mode}[{index}]", depth + 1, counter) for index, rule in enumerate(rules)]
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
    if '"' in attribute or any(not part for part in attribute.split(".")):
        raise SegmentError(f"{path}.attribute", "must not hold '\"' or an empty part between dots")
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
    if op in ("in", "not_in") and any(isinstance(item, dict | list) for item in value):
        raise SegmentError(path, f"must list single values for '{op}'")
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, int) and not isinstance(item, bool) and not -(2**63) <= item < 2**63:
            raise SegmentError(path, "holds a whole number too large for the database (64 bits)")
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
