"""`check_json_document`'s shortcut for a flat object of plain values accepts only what its full walk
accepts, and leaves everything else (nested values, odd text, NaN, the item limit) to the walk."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from ccm.validation import MAX_JSON_ITEMS, _walked, check_json_document, is_plain_flat

FLAT_VALUES: list[Any] = [
    "text",
    "",
    "caf\u00e9",
    "nul\x00",
    "\ud800",
    0,
    -7,
    2**70,
    1.5,
    math.inf,
    math.nan,
    True,
    False,
    None,
    [1],
    {"a": 1},
    (1,),
    b"x",
]
KEYS: list[Any] = ["name", "", "caf\u00e9", "nul\x00", "\ud800", 1, None]


def walk_accepts(value: Any) -> bool:
    try:
        _walked(value, "")
    except ValueError:
        return False
    return True


def test_the_shortcut_accepts_only_what_the_walk_accepts() -> None:
    rng = random.Random(1201)
    shortcut = 0
    for _ in range(3000):
        document = {rng.choice(KEYS): rng.choice(FLAT_VALUES) for _ in range(rng.randint(0, 4))}
        if is_plain_flat(document):
            shortcut += 1
            assert walk_accepts(document), document
    assert shortcut > 300


@pytest.mark.parametrize(
    "document",
    [
        {"name": "caf\u00e9"},
        {"name": "nul\x00"},
        {"name": "\ud800"},
        {"\ud800": 1},
        {"n": math.nan},
        {"n": [1]},
        {"n": {"a": 1}},
        {1: "a"},
        [1, 2],
        "text",
        dict.fromkeys(map(str, range(MAX_JSON_ITEMS)), 1),
    ],
)
def test_anything_unusual_is_left_to_the_walk(document: Any) -> None:
    assert not is_plain_flat(document)


def test_the_item_limit_is_the_walks() -> None:
    under = dict.fromkeys(map(str, range(MAX_JSON_ITEMS - 1)), 1)
    assert is_plain_flat(under) and check_json_document(under) is under
    with pytest.raises(ValueError, match="more than"):
        check_json_document(dict.fromkeys(map(str, range(MAX_JSON_ITEMS)), 1))
