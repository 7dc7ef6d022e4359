"""When a version's data contract covers what its parts read, so a send is checked by validation alone."""

from __future__ import annotations

from typing import Any

import pytest

from ccm.registry.contract import propose_schema
from ccm.registry.coverage import coverage_gaps
from ccm.registry.data_paths import variable_usage

INVOICE_SMS = (
    "Invoice {{ invoice.number }}: {% for line in invoice.lines %}{{ line.amount }} {% endfor %}"
    "{{ note | default('') }} Hi {{ customer.first_name }}, {{ loop_free | default(1) }}"
)
SAMPLE = {"invoice": {"number": "A-1", "lines": [{"amount": 3.5}]}, "note": "n", "loop_free": 2}


def gaps(sources: list[str], schema: dict[str, Any] | None) -> list[str]:
    return coverage_gaps(schema, variable_usage(sources))


def test_a_schema_proposed_from_typed_sample_data_covers_its_parts() -> None:
    assert gaps([INVOICE_SMS], propose_schema([INVOICE_SMS], SAMPLE)) == []


def test_customer_fields_are_not_data_but_are_listed_for_the_send() -> None:
    usage = variable_usage([INVOICE_SMS, "{{ customer.locale | default('en') }}"])
    assert usage.customer == {("customer", "first_name")}  # a guarded one is the template's business
    assert not any(path[0] == "customer" for path in usage.required | usage.optional)


def test_a_leaf_the_sample_data_lacks_leaves_the_schema_short() -> None:
    schema = propose_schema([INVOICE_SMS], {"invoice": {"number": "A-1"}})
    found = gaps([INVOICE_SMS], schema)
    assert "data.invoice.lines[].amount: its type must be one of boolean, integer, number, string" in found


def test_a_path_read_unguarded_must_be_required() -> None:
    schema = propose_schema([INVOICE_SMS], SAMPLE)
    schema["properties"]["invoice"]["required"].remove("number")
    assert gaps([INVOICE_SMS], schema) == [
        "data.invoice.number: the parts read it unguarded, so the schema must require it"
    ]


def test_a_guarded_path_need_not_be_required_but_must_be_typed() -> None:
    schema = {"type": "object", "properties": {"note": {"type": "string"}}}
    assert gaps(["{% if note is defined %}{{ note }}{% endif %}"], schema) == []
    assert gaps(["{{ note | default('') }}"], {"type": "object", "properties": {"note": {}}}) == [
        "data.note: its type must be one of boolean, integer, number, string"
    ]


@pytest.mark.parametrize(
    ("source", "gap"),
    [
        ("{{ rates[currency] }}", "a computed or numbered index into rates"),
        ("{{ invoice.lines[0].amount }}", "a computed or numbered index into invoice.lines[].amount"),
        ("{% set ns = namespace(t=0) %}{{ ns.t }}", "a lookup into a local value or an expression"),
        ("{{ (invoice.lines | first).amount }}", "a lookup into a local value or an expression"),
    ],
)
def test_a_lookup_the_paths_cannot_follow_is_never_covered(source: str, gap: str) -> None:
    sample = {"rates": {"EUR": 1}, "currency": "EUR", "invoice": {"lines": [{"amount": 1}]}}
    found = gaps([source], propose_schema([source], sample))
    assert any(gap in line for line in found), found


@pytest.mark.parametrize(
    ("schema", "gap"),
    [
        (None, "the version has no data schema"),
        ({"$ref": "#/$defs/x", "$defs": {"x": {}}}, "the schema's root uses '$ref'"),
        (
            {"type": "object", "required": ["a"], "properties": {"a": {"anyOf": [{"type": "string"}]}}},
            "data.a: the schema uses 'anyOf', which is not followed",
        ),
        ({"type": "object", "properties": {}}, "data.a: not in the schema"),
        (
            {"type": "object", "required": ["a"], "properties": {"a": {"type": ["string", "null"]}}},
            "data.a: its type must be one of boolean, integer, number, string",
        ),
    ],
)
def test_a_schema_that_does_not_say_enough_does_not_cover(schema: dict[str, Any] | None, gap: str) -> None:
    assert gaps(["{{ a }}"], schema) == [gap]


def test_members_need_an_object_and_loops_an_array() -> None:
    schema = {
        "type": "object",
        "required": ["a", "b"],
        "properties": {"a": {"type": "string"}, "b": {"type": "object"}},
    }
    assert gaps(["{{ a.x }}{% for i in b %}{{ i }}{% endfor %}"], schema) == [
        "data.a: the parts read members of it, so its type must be 'object'",
        "data.b: the parts loop over it, so its type must be 'array'",
    ]
