"""What a version's sends are checked with at the API, worked out once per version.

A published version never changes, so its schema's validator and whether that schema covers everything
the parts read (`ccm.registry.coverage`) are computed on its first send and kept, keyed by the version's
id, checksum and creation time (a database emptied and refilled may reuse an id, never all three). Where
the contract covers the parts, a send is accepted on validation alone: nothing renders at the API, and the
worker's render (under the render limits) is the first. Elsewhere the render check in the pool stays.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jsonschema import Draft202012Validator

from ccm.channels import get_channel
from ccm.errors import Unprocessable
from ccm.registry.coverage import coverage_gaps
from ccm.registry.data_paths import ITEMS, VariablePath, dotted, variable_usage
from ccm.registry.locales import all_sources, every_locale
from ccm.registry.models import TemplateVersion, VersionStatus

CACHED_VERSIONS = 512
"""Versions whose contracts are kept; past this the cache starts again (a handful are live at a time)."""


@dataclass(frozen=True)
class SendContract:
    validator: Draft202012Validator | None
    """The version's schema, compiled once; None when it has none."""
    gaps: tuple[str, ...]
    """Why the schema does not cover the parts (empty: it does)."""
    customer_paths: dict[str, frozenset[VariablePath]]
    """By channel, what its sources read unguarded from the customer's record (`("customer", "name")`),
    in any locale: what the render check would have found missing on a send to that channel."""

    @property
    def covers_parts(self) -> bool:
        """Validation stands in for the send-time render."""
        return self.validator is not None and not self.gaps


_cache: dict[tuple[int | None, str, datetime], SendContract] = {}
_lock = threading.Lock()


def send_contract(version: TemplateVersion) -> SendContract:
    """The version's contract, from the cache unless it is a draft (whose content may still change)."""
    if version.status == VersionStatus.DRAFT:
        return contract_of(version)
    key = (version.id, version.checksum, version.created_at)
    found = _cache.get(key)
    if found is None:
        found = contract_of(version)
        with _lock:
            if len(_cache) >= CACHED_VERSIONS:
                _cache.clear()
            _cache[key] = found
    return found


def contract_of(version: TemplateVersion) -> SendContract:
    """Compile the schema and compare it with what every part, locale, layout and partial reads."""
    library = sorted((version.library or {}).values())
    usage = variable_usage(all_sources(version.parts, version.locales or {}) + library)
    schema = version.data_schema
    gaps = coverage_gaps(schema, usage) + [
        f"{dotted(path)}: read by the layout or a partial, so only a render can check it"
        for path in sorted(variable_usage(library).customer)
    ]
    return SendContract(
        validator=Draft202012Validator(schema) if schema is not None else None,
        gaps=tuple(gaps),
        customer_paths=_customer_paths(version),
    )


def _customer_paths(version: TemplateVersion) -> dict[str, frozenset[VariablePath]]:
    found: dict[str, set[VariablePath]] = {}
    for _tag, parts in every_locale(version.parts, version.locales or {}):
        for channel in parts:
            sources = [source for _, source in get_channel(channel).sources(parts)]
            found.setdefault(channel, set()).update(variable_usage(sources).customer)
    return {channel: frozenset(paths) for channel, paths in found.items()}


def require_customer_paths(contract: SendContract, context: Mapping[str, Any], channels: list[str]) -> None:
    """422 `missing_variable` for a customer field the parts of `channels` read and the record lacks, as
    the render check would have said."""
    paths = set().union(*(contract.customer_paths.get(channel, frozenset()) for channel in channels))
    for path in sorted(paths):
        if not _present(context, path):
            variable = dotted(path)
            raise Unprocessable(
                f"missing variable '{variable}' (the template reads it from the customer's record)",
                field=f"data.{variable}",
                code="missing_variable",
            )


def _present(value: Any, path: VariablePath) -> bool:
    """Whether `path` leads somewhere in `value`; at `[]`, in every item of a list."""
    if not path:
        return True
    step, rest = path[0], path[1:]
    if step == ITEMS:
        return isinstance(value, list) and all(_present(item, rest) for item in value)
    return isinstance(value, Mapping) and step in value and _present(value[step], rest)
