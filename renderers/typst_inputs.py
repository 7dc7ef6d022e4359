"""What a Typst template reads through `sys.inputs`: the data as JSON, and locale-formatted copies of the
money and date fields the data contract marks, so Typst shows the same strings as the Jinja filters.

A mark is a plain mapping (it travels with a version's parts to the render process):
`{"path": ["invoice", "lines", "*", "unit_price"], "kind": "money", "currency": "/invoice/currency"}`,
`{"path": ["invoice", "due_date"], "kind": "date", "style": "long"}` or `"kind": "datetime"`. `*` steps
into every item of an array; `currency` is a JSON pointer into the data or an ISO 4217 code. The copies
mirror the data's shape: `formatted.invoice.lines.at(0).unit_price` is `€39.90` where the data has "39.90";
an array item without a marked field is an empty object, and a field the data lacks is left out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from renderers.errors import RenderError
from renderers.filters import date_text, datetime_text, money_text
from renderers.localisation import RenderSettings

ITEMS = "*"
"""The path step for every item of an array."""
KINDS = ("money", "date", "datetime")
STYLES = ("short", "medium", "long", "full")

Mark = Mapping[str, Any]


def typst_inputs(
    context: Mapping[str, Any], marks: Sequence[Mark], settings: RenderSettings
) -> dict[str, str]:
    """`sys.inputs` of one render: `data`, `formatted` (JSON text each), `locale` and `timezone`."""
    data = {key: value for key, value in context.items() if not key.startswith("_")}
    return {
        "data": json.dumps(data, ensure_ascii=False, default=str),
        "formatted": json.dumps(formatted_copies(data, marks, settings), ensure_ascii=False),
        "locale": str(settings.locale),
        "timezone": settings.timezone.key,
    }


def formatted_copies(
    data: Mapping[str, Any], marks: Sequence[Mark], settings: RenderSettings
) -> dict[str, Any]:
    """Every marked field of `data` formatted for the recipient, in a tree shaped like the data."""
    copies: Any = {}
    for mark in marks:
        copies = _mirror(data, data, tuple(mark["path"]), mark, settings, copies)
    return copies if isinstance(copies, dict) else {}


def _mirror(
    root: Any, value: Any, path: tuple[str, ...], mark: Mark, settings: RenderSettings, into: Any
) -> Any:
    """`into` with the copy of `value`'s field at `path` added (arrays item by item)."""
    if not path:
        return None if value is None else _text(root, value, mark, settings)
    step, rest = path[0], path[1:]
    if step == ITEMS:
        if not isinstance(value, list):
            return into
        items = into if isinstance(into, list) and len(into) == len(value) else [{} for _ in value]
        return [_mirror(root, item, rest, mark, settings, items[i]) for i, item in enumerate(value)]
    if not isinstance(value, Mapping) or step not in value:
        return into
    tree = into if isinstance(into, dict) else {}
    tree[step] = _mirror(root, value[step], rest, mark, settings, tree.get(step))
    return tree


def _text(root: Any, value: Any, mark: Mark, settings: RenderSettings) -> str:
    where = ".".join(mark["path"])
    try:
        if mark["kind"] == "money":
            return money_text(value, _currency(root, str(mark["currency"])), settings)
        style = str(mark.get("style") or "long")
        if mark["kind"] == "date":
            return date_text(value, style, settings)
        return datetime_text(value, style, settings)
    except RenderError as error:
        raise RenderError(f"{where}: {error.message}", field="typst") from None


def _currency(root: Any, currency: str) -> Any:
    """An ISO 4217 code as given, or the value a JSON pointer (`/invoice/currency`) names in the data."""
    if not currency.startswith("/"):
        return currency
    value = root
    for raw in currency[1:].split("/"):
        step = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(value, Mapping) and step in value:
            value = value[step]
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            raise RenderError(f"money: the currency at {currency} is missing from the data")
    return value
