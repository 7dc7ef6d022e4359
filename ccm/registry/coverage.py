"""Whether a version's data contract covers every variable its parts read: then validating a send's data
against the schema stands in for rendering it at the API (`ccm.registry.send_contract`).

"Covers" is decided over every Jinja source of every part in every locale, plus the pinned layout and
partials (`ccm.registry.data_paths.variable_usage`), and means all of:

- no lookup escapes the paths: no `a[key]`, no numbered item (`a.lines[0]`: an array may be empty), no
  attribute of a local value or an expression (`ns.total`, `(lines | first).x`);
- every data path read is in the schema, reached through plain `properties` and `items` only (a `$ref` or a
  combinator such as `anyOf` on the way is not followed, so it does not cover);
- each step of a path read unguarded is `required` in its parent, unless the template guards that prefix
  (`is defined`, `| default`), exactly as `propose_schema` would mark it;
- each node read declares a `type` that renders as the parts use it: `object` where they read members of it,
  `array` with `items` where they loop over it, otherwise only scalars (`string`, `number`, `integer`,
  `boolean`); no `null`, and no unconstrained leaf.

Customer paths (`customer.first_name`) are not data: the send checks them against the customer's record.
What this cannot see: a filter refusing a value of the declared type (`"soon" | date`) fails the render at
the worker (`render_failed`), not at the API; a `pattern` or `enum` in the schema is how to refuse it early.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ccm.registry.data_paths import ITEMS, Usage, VariablePath

SCALARS = frozenset({"string", "number", "integer", "boolean"})
NOT_FOLLOWED = ("$ref", "$dynamicRef", "allOf", "anyOf", "oneOf", "not", "if", "dependentSchemas")


@dataclass
class _Read:
    """One node of what the parts read: its members, its items, whether it must be present."""

    members: dict[str, _Read] = field(default_factory=dict)
    items: _Read | None = None
    required: bool = False

    def child(self, step: str) -> _Read:
        if step == ITEMS:
            self.items = self.items or _Read()
            return self.items
        return self.members.setdefault(step, _Read())


def coverage_gaps(schema: Mapping[str, Any] | None, usage: Usage) -> list[str]:
    """Why the schema does not cover what the parts read (empty: it covers), one line per gap."""
    if schema is None:
        return ["the version has no data schema"]
    gaps = sorted(usage.opaque)
    root = _read_tree(usage.required, usage.optional)
    if _unfollowed(schema):
        return [*gaps, f"the schema's root uses {_unfollowed(schema)}"]
    _compare_members(root, schema, "data", gaps)
    return gaps


def _read_tree(required: set[VariablePath], optional: set[VariablePath]) -> _Read:
    root = _Read()
    for path in sorted(required | optional):
        node = root
        for depth, step in enumerate(path):
            node = node.child(step)
            if path in required and path[: depth + 1] not in optional and step != ITEMS:
                node.required = True
    return root


def _compare(node: _Read, schema: Any, where: str, gaps: list[str]) -> None:
    if not isinstance(schema, Mapping):
        gaps.append(f"{where}: the schema says nothing about it")
        return
    if _unfollowed(schema):
        gaps.append(f"{where}: the schema uses {_unfollowed(schema)}, which is not followed")
        return
    types = _types(schema)
    if node.members and node.items is not None:
        gaps.append(f"{where}: the parts read it both as an object and as a list")
    elif node.members:
        if types != {"object"}:
            gaps.append(f"{where}: the parts read members of it, so its type must be 'object'")
        else:
            _compare_members(node, schema, where, gaps)
    elif node.items is not None:
        if types != {"array"}:
            gaps.append(f"{where}: the parts loop over it, so its type must be 'array'")
        else:
            _compare(node.items, schema.get("items"), f"{where}[]", gaps)
    elif not types or not types <= SCALARS:
        gaps.append(f"{where}: its type must be one of {', '.join(sorted(SCALARS))}")


def _compare_members(node: _Read, schema: Mapping[str, Any], where: str, gaps: list[str]) -> None:
    properties = schema.get("properties")
    properties = properties if isinstance(properties, Mapping) else {}
    required = schema.get("required")
    required = required if isinstance(required, list) else []
    for name, member in sorted(node.members.items()):
        if name not in properties:
            gaps.append(f"{where}.{name}: not in the schema")
            continue
        if member.required and name not in required:
            gaps.append(f"{where}.{name}: the parts read it unguarded, so the schema must require it")
        _compare(member, properties[name], f"{where}.{name}", gaps)


def _types(schema: Mapping[str, Any]) -> set[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list) and all(isinstance(t, str) for t in declared):
        return set(declared)
    return set()


def _unfollowed(schema: Mapping[str, Any]) -> str:
    return ", ".join(repr(key) for key in NOT_FOLLOWED if key in schema)
