"""The fast path for plain import rows decides every row as `CustomerBatchItem` does: over good and bad rows
(every field, its types, limits and odd text, declared attribute types) it either steps aside or gives the
same external id and stored values — or the same refusal — and it does take the plain rows."""

from __future__ import annotations

import random
from typing import Any

import pytest

from ccm.customers.attribute_types import AttributeType, Declared
from ccm.customers.import_fast import fast_prepared
from ccm.customers.importing import prepare, prepared_by_model
from ccm.errors import ApiError

DECLARED = {
    "score": Declared("score", AttributeType.NUMBER),
    "vip": Declared("vip", AttributeType.BOOLEAN),
    "tier": Declared("tier", AttributeType.ENUM, ("gold", "free")),
    "birthday": Declared("birthday", AttributeType.DATE),
}
PLAIN: dict[str, Any] = {
    "external_id": "c-00000001",
    "email": "Person1@Example.com",
    "phone": "+393471234567",
    "locale": "de_CH",
    "timezone": "Europe/Rome",
    "attributes": {"first_name": "Name1", "score": 12.5, "vip": True},
}
VARIANTS: dict[str, list[Any]] = {  # each field's values, good and bad
    "external_id": ["a", "A.b_c:d@e+f-g", "x" * 200, "x" * 201, "", "-a", "a b", "é1", "a\n", 7, None],
    "email": [
        "PostMaster@example.com",
        "user@xn--bcher-kva.de",
        "josé@bücher.de",
        "not-an-email",
        "ann@example.test",
        "Ann <ann@example.com>",
        "",
        None,
        3,
    ],
    "phone": [
        "+39 347 123 4501",
        "+39 (347) 123-4502",
        "+1 650 253 0000",
        "+44 7911 123456",
        "+4407911123456",
        "+379 06 698 1",
        "+390669812345",
        "3471234503",
        "0039 347 1234504",
        "+391",
        "+39347123450\u0661",
        "+3934712345678901234567",
        "",
        None,
        393471234567,
    ],
    "locale": ["it", "DE-ch", "en_US", "xx", "", "\uff45\uff4e", "en" * 20, None, 1],
    "timezone": ["UTC", "America/New_York", "Mars/Olympus", "europe/rome", "../etc/passwd", "", None],
    "attributes": [
        {},
        {"score": 3, "vip": False, "tier": "gold", "birthday": "2000-02-29"},
        {"score": "3"},
        {"score": True},
        {"vip": "true"},
        {"tier": "silver"},
        {"birthday": "2001-02-29"},
        {"score": float("nan")},
        {"score": float("inf")},
        {"note": "caf\u00e9", "nested": {"a": [1, 2]}},
        {"note": "nul\x00"},
        {"bad\ud800": 1},
        {"note": "\ud800"},
        {"list": [1, "a"]},
        {"none": None},
        None,
        [],
        "x",
    ],
}


def decision(prepare_row: Any, data: dict[str, Any]) -> tuple[Any, ...] | None:
    """What a path decides about a row: ok with the stored values, refused with the error; None if it
    stepped aside."""
    try:
        prepared = prepare_row(DECLARED, data)
    except ApiError as error:
        return ("refused", error.code, error.field, error.message)
    if prepared is None:
        return None
    external_id, values = prepared
    stored = {name: value for name, value in values.items() if name != "updated_at"}
    return ("ok", external_id, stored, type(values["updated_at"]))


def rows() -> list[dict[str, Any]]:
    """The plain row with each field varied, then absent, then an unknown field; and random mixes."""
    found = [dict(PLAIN)]
    for name, values in VARIANTS.items():
        found += [{**PLAIN, name: value} for value in values]
        found.append({key: value for key, value in PLAIN.items() if key != name})
    found.append({**PLAIN, "unknown": 1})
    rng = random.Random(1201)
    for _ in range(3000):
        mixed = {name: rng.choice(VARIANTS[name]) if rng.random() < 0.3 else PLAIN[name] for name in VARIANTS}
        found.append(mixed)
    return found


def test_every_row_is_decided_alike_by_both_paths() -> None:
    taken = 0
    for data in rows():
        fast = decision(fast_prepared, data)
        if fast is not None:
            taken += 1
            assert fast == decision(prepared_by_model, data), data
    assert taken > 200


@pytest.mark.parametrize(
    "data",
    [
        PLAIN,
        {"external_id": "j1"},
        {"external_id": "j2", "email": None, "phone": None, "attributes": {}},
        {**PLAIN, "attributes": {"score": "high"}},  # plain, and refused by the attribute check
    ],
)
def test_plain_rows_take_the_fast_path(data: dict[str, Any]) -> None:
    fast = decision(fast_prepared, data)
    assert fast is not None and fast == decision(prepared_by_model, data) == decision(prepare, data)


def test_the_stored_values_of_a_plain_row() -> None:
    external_id, values = prepare(DECLARED, PLAIN)
    assert external_id == "c-00000001"
    assert {name: values[name] for name in ("email", "phone", "locale", "timezone", "attributes")} == {
        "email": "person1@example.com",
        "phone": "+393471234567",
        "locale": "de_CH",
        "timezone": "Europe/Rome",
        "attributes": {"first_name": "Name1", "score": 12.5, "vip": True},
    }
    assert values["attributes"] is not PLAIN["attributes"]  # a copy, as the model makes


def test_the_variants_cover_each_field_both_ways() -> None:
    """Each field has values the fast path takes and values it leaves to the model (so both are compared)."""
    for name, values in VARIANTS.items():
        outcomes = {decision(fast_prepared, {**PLAIN, name: value}) is None for value in values}
        assert outcomes == {True, False}, name
