"""What changed between two versions: a unified diff per part field and locale (templates), or per source
(layouts and partials, `ccm.registry.library`)."""

from __future__ import annotations

import difflib

from sqlmodel import Session

from ccm.registry.content import texts_of
from ccm.registry.schemas import DiffChange, VersionDiff
from ccm.registry.service import get_version

NO_NEWLINE = "\\ No newline at end of file\n"
Texts = dict[tuple[str, str | None], str]
"""A version's content as text, by (part field or source, locale)."""


def diff_versions(session: Session, key: str, old: int, new: int) -> VersionDiff:
    """Every piece of content that differs from version `old` to version `new`; none for one version."""
    before = texts_of(get_version(session, key, old))
    after = texts_of(get_version(session, key, new))
    return diff_texts(before, after, old, new)


def diff_texts(before: Texts, after: Texts, old: int, new: int) -> VersionDiff:
    """The diff of two versions' texts by (part, locale): templates' and layouts' and partials' alike."""
    changes = []
    for part, locale in _in_order([*before, *after]):
        was, now = before.get((part, locale), ""), after.get((part, locale), "")
        if was != now:
            label = part if locale is None else f"locales/{locale}/{part}"
            diff = unified_diff(was, now, f"v{old}/{label}", f"v{new}/{label}")
            changes.append(DiffChange(part=part, locale=locale, diff=diff))
    return VersionDiff(from_=old, to=new, changes=changes)


def _in_order(places: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    """Each place once: default parts, then each locale's, then the rest (`sample_data`, `schema`: names
    without a dot); within each, in the order the versions hold them."""
    unique = list(dict.fromkeys(places))
    return sorted(unique, key=lambda where: ("." not in where[0], where[1] is not None, where[1] or ""))


def unified_diff(was: str, now: str, old_name: str, new_name: str) -> str:
    """`diff -u` of two texts, marking a last line without a newline as git does."""
    return "".join(difflib.unified_diff(_lines(was), _lines(now), old_name, new_name))


def _lines(text: str) -> list[str]:
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += "\n" + NO_NEWLINE
    return lines
