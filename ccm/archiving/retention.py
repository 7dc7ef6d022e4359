"""How long an archived message must be kept: the most specific rule in `CCM_ARCHIVE_RETENTION_DAYS` wins."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

FALLBACK_DAYS = 3650


def rule_names(*, template: str, category: str, channel: str) -> tuple[str, ...]:
    """The rule keys that may apply, most specific first."""
    return (f"template:{template}", f"{category}:{channel}", category, "default")


def retention_days(rules: Mapping[str, int], *, template: str, category: str, channel: str) -> int:
    for name in rule_names(template=template, category=category, channel=channel):
        if name in rules:
            return rules[name]
    return FALLBACK_DAYS


def retain_until(
    rules: Mapping[str, int], archived_at: datetime, *, template: str, category: str, channel: str
) -> datetime:
    """The first moment the item may be deleted (whole seconds, as S3 Object Lock keeps them)."""
    days = retention_days(rules, template=template, category=category, channel=channel)
    return (archived_at + timedelta(days=days)).replace(microsecond=0)
