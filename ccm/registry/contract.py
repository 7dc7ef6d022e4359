"""The data contract: a version's JSON Schema (2020-12) for the `data` its sends carry.

When an author gives none, one is proposed from the variables the parts use (`propose_schema`); a schema
given is checked as a 2020-12 schema (`check_schema`); and sends, campaigns and publishing validate data
against it (`validate_data`) before anything is queued, so `{"invoice": {"number": {"a": 1}}}` is a 422
naming `/invoice/number`, not an SMS reading "invoice {'a': 1}".
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from jsonschema.exceptions import ValidationError as SchemaViolation
from referencing.exceptions import Unresolvable

from ccm.errors import Unprocessable
from ccm.registry.contract_marks import check_marks
from ccm.registry.data_paths import ITEMS, VariablePath, used_variables

DIALECT = "https://json-schema.org/draft/2020-12/schema"
MAX_DETAILS = 100
"""At most this many failing fields are listed in one error (each names its field and pointer)."""


def propose_schema(sources: list[str], sample_data: Mapping[str, Any]) -> dict[str, Any]:
    """A schema requiring every data variable the sources use, typed by the sample data where it has them.

    Dotted paths become nested objects and `{% for x in a.b %}` an array; a variable only used under
    `is defined` or `| default(...)` is optional; leaves the sample data lacks are left unconstrained.
    """
    required, optional = used_variables(sources)
    tree = _Node()
    for path in sorted(required | optional):
        tree.add(path)
    for path in sorted(required):
        tree.require(path, optional)
    return {"$schema": DIALECT, **tree.schema(sample_data)}


class _Node:
    """One variable (or list item) of the proposed schema: its members, its items, which are required."""

    def __init__(self) -> None:
        self.members: dict[str, _Node] = {}
        self.items: _Node | None = None
        self.required: set[str] = set()

    def child(self, step: str) -> _Node:
        if step == ITEMS:
            self.items = self.items or _Node()
            return self.items
        return self.members.setdefault(step, _Node())

    def add(self, path: VariablePath) -> None:
        node = self
        for step in path:
            node = node.child(step)

    def require(self, path: VariablePath, optional: set[VariablePath]) -> None:
        """Mark each step of `path` required in its parent, except where the template guards it."""
        node = self
        for depth, step in enumerate(path):
            if step != ITEMS and path[: depth + 1] not in optional:
                node.required.add(step)
            node = node.child(step)

    def schema(self, sample: Any) -> dict[str, Any]:
        if self.members and self.items is not None:
            return {}  # used both as an object and as a list: the template decides at run time
        if self.items is not None:
            first = sample[0] if isinstance(sample, list) and sample else None
            return {"type": "array", "items": self.items.schema(first)}
        if self.members:
            values = sample if isinstance(sample, Mapping) else {}
            properties = {name: node.schema(values.get(name)) for name, node in sorted(self.members.items())}
            shape: dict[str, Any] = {"type": "object", "properties": properties}
            if self.required:
                shape["required"] = sorted(self.required)
            return shape
        return _leaf(sample)


def _leaf(sample: Any) -> dict[str, Any]:
    """A leaf typed by its sample value; unconstrained when the sample data does not have it."""
    if isinstance(sample, bool):
        return {"type": "boolean"}
    if isinstance(sample, int | float):
        return {"type": "number"}
    if isinstance(sample, str):
        return {"type": "string"}
    if isinstance(sample, list):
        return {"type": "array"}
    if isinstance(sample, Mapping):
        return {"type": "object"}
    return {}


def check_schema(schema: dict[str, Any]) -> None:
    """Refuse what is not a 2020-12 schema, or one that reaches outside itself (422 `invalid_schema`)."""
    declared = schema.get("$schema")
    if declared is not None and declared != DIALECT:
        raise _invalid_schema(f"'$schema' must be {DIALECT!r} (JSON Schema 2020-12), not {declared!r}")
    problem = _metaschema_problem(json.dumps(schema, sort_keys=True, default=repr))
    if problem is not None:
        raise _invalid_schema(problem)
    for ref in _references(schema):
        if not ref.startswith("#"):
            raise _invalid_schema(f"only references inside the schema are allowed ('$ref': {ref!r})")
    check_marks(schema)


@lru_cache(maxsize=256)
def _metaschema_problem(schema_json: str) -> str | None:
    """What the 2020-12 metaschema says against this schema (None: valid), cached by the schema's text:
    the metaschema check resolves its dynamic references afresh each time (~6 ms a contract), and a
    registry checks the same contracts again and again (every save, every starter load)."""
    try:
        Draft202012Validator.check_schema(json.loads(schema_json))
    except SchemaError as error:
        where = "".join(f"/{step}" for step in error.absolute_path)
        return f"{error.message}" + (f" (at {where})" if where else "")
    return None


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key in ("$ref", "$dynamicRef") and isinstance(value, str):
                yield value
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def _invalid_schema(problem: str) -> Unprocessable:
    return Unprocessable(f"schema: {problem}", field="schema", code="invalid_schema")


def data_problems(
    schema: dict[str, Any],
    data: Mapping[str, Any],
    root: str = "data",
    *,
    validator: Draft202012Validator | None = None,
) -> list[dict[str, str]]:
    """Every field of `data` the schema refuses, sorted by pointer: `{"field", "pointer", "message"}`.

    `validator`: the schema's, built once (`ccm.registry.send_contract` keeps one per published version)."""
    try:
        violations = list((validator or Draft202012Validator(schema)).iter_errors(data))
    except Unresolvable as error:
        raise _invalid_schema(f"a reference does not resolve: {error}") from None
    found: dict[tuple[str, str], dict[str, str]] = {}
    for violation in violations:
        for path, message in _explained(violation):
            pointer = "".join(f"/{_escape(step)}" for step in path)
            field = ".".join([root, *(str(step) for step in path)])
            found.setdefault((pointer, message), {"field": field, "pointer": pointer, "message": message})
    return [found[key] for key in sorted(found)]


def _explained(violation: SchemaViolation) -> Iterator[tuple[list[str | int], str]]:
    """One (path, message) per failing field; a `required` failure is put on the missing field itself."""
    path = list(violation.absolute_path)
    required = violation.validator_value
    if (
        violation.validator == "required"
        and isinstance(violation.instance, Mapping)
        and isinstance(required, list)
    ):
        for name in required:
            if name not in violation.instance:
                yield [*path, name], "is required"
        return
    message = violation.message
    yield path, message if len(message) <= 300 else f"{message[:297]}..."


def _escape(step: str | int) -> str:
    """A JSON Pointer reference token (RFC 6901)."""
    return str(step).replace("~", "~0").replace("/", "~1")


def validate_data(
    schema: dict[str, Any] | None,
    data: Mapping[str, Any],
    *,
    root: str = "data",
    missing: str = "missing_variable",
    validator: Draft202012Validator | None = None,
) -> None:
    """422 before anything is queued when `data` breaks the version's schema (nothing to check without one).

    Only missing fields: the `missing` code (for sends `missing_variable`, the code they have always had
    for them). Anything else: `data_invalid`. Both list every failing field in `details`.
    """
    if schema is None:
        return
    problems = data_problems(schema, data, root, validator=validator)
    if not problems:
        return
    details = problems[:MAX_DETAILS]
    first = details[0]
    if missing != "data_invalid" and all(p["message"] == "is required" for p in problems):
        variable = first["field"].removeprefix(f"{root}.")
        raise Unprocessable(
            f"missing variable '{variable}' (required by the template's data schema)"
            + (f" and {len(problems) - 1} more" if len(problems) > 1 else ""),
            field=first["field"],
            code=missing,
            extra={"details": details},
        )
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    raise Unprocessable(
        f"{root} does not match the template's schema: {first['pointer'] or '/'}: {first['message']}{more}",
        field=first["field"],
        code="data_invalid",
        extra={"details": details},
    )
