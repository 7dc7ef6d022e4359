"""Every starter template carries its data contract: `schema.json`, a JSON Schema 2020-12 document that
its own sample data satisfies and that refuses the wrong shapes the issue names."""

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
KEYS = sorted(p.name for p in TEMPLATES.iterdir() if (p / "template.json").is_file())


def schema_of(key: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((TEMPLATES / key / "schema.json").read_text(encoding="utf-8"))
    return schema


def sample_of(key: str) -> dict[str, Any]:
    sample: dict[str, Any] = json.loads((TEMPLATES / key / "template.json").read_text())["sample_data"]
    return sample


@pytest.mark.parametrize("key", KEYS)
def test_each_starter_schema_is_a_2020_12_schema_its_sample_data_satisfies(key: str) -> None:
    schema = schema_of(key)

    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert list(Draft202012Validator(schema).iter_errors(sample_of(key))) == []
    assert schema["required"]  # every starter needs data of its own


@pytest.mark.parametrize(
    ("key", "change", "pointer"),
    [
        ("invoice", {"invoice": {"number": {"a": 1}}}, "/invoice/number"),
        ("invoice", {"invoice": {"lines": [{"description": "x", "quantity": "2", "unit_price": 1}]}},
         "/invoice/lines/0/quantity"),
        ("otp", {"code": 482913}, "/code"),
        ("welcome", {"cta_url": "javascript:alert(1)"}, "/cta_url"),
        ("statement", {"statement": {"transactions": "none"}}, "/statement/transactions"),
    ],
)  # fmt: skip
def test_a_starter_schema_names_the_field_a_wrong_shape_breaks(
    key: str, change: dict[str, Any], pointer: str
) -> None:
    data = sample_of(key)
    for name, value in change.items():
        data[name] = {**data[name], **value} if isinstance(value, dict) else value

    errors = list(Draft202012Validator(schema_of(key)).iter_errors(data))

    assert ["".join(f"/{step}" for step in error.absolute_path) for error in errors] == [pointer]
