"""Where each piece of a template, layout or partial lives in a templates folder, and its one error."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ccm.channels import get_channel
from ccm.errors import Unprocessable
from ccm.registry.models import LibraryKind

TEMPLATE_FILE = "template.json"
"""`<key>/template.json`: the template's metadata, sample data, pins and each part's short fields."""
SCHEMA_FILE = "schema.json"
LOCALES_DIR = "locales"
VARIANT_FILE = "template.json"
"""`<key>/locales/<tag>/template.json`: a variant's short fields (a subject) and its fields set to null."""
TEMPLATE_KEYS = frozenset(
    {"key", "name", "category", "description", "topic", "sample_data", "layout", "schema"}
)
"""What `template.json` may hold beside one object of short fields per channel."""


@dataclass(frozen=True)
class LibraryFormat:
    """One kind of library item as files: `<folder>/<key>/<meta_file>` and one file per source field."""

    kind: LibraryKind
    folder: str
    meta_file: str
    files: tuple[tuple[str, str], ...]


LIBRARY_FORMATS = (
    LibraryFormat(
        LibraryKind.LAYOUT, "_layouts", "layout.json", (("email", "email.html"), ("pdf", "pdf.html"))
    ),
    LibraryFormat(LibraryKind.PARTIAL, "_partials", "partial.json", (("source", "source.jinja"),)),
)
"""Pushed in this order, before templates, so a template's includes and layout pin find their items."""


class MalformedFolder(Unprocessable):
    """A file of a templates folder the registry cannot take, named with the problem (`ccm` exits 1)."""

    code = "malformed_folder"

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}", field=str(path))


def part_files(channel: str) -> dict[str, str]:
    """The channel's part fields kept in files of their own, by field: `{"text": "sms.txt"}`."""
    return dict(get_channel(channel).starter_files)


def is_hidden(path: Path) -> bool:
    """Dot files (`.gitkeep`, an editor's swap file) are no part of the format: read and pull skip them."""
    return path.name.startswith(".")


def template_folders(root: Path) -> list[Path]:
    """`root`'s template folders by key: every folder but hidden ones and those starting with `_`."""
    return sorted(p for p in _folders(root) if not p.name.startswith("_"))


def library_folders(root: Path, kind: LibraryFormat) -> list[Path]:
    """The folders of one kind of library item, `root/_layouts/<key>/` or `root/_partials/<key>/`."""
    return _folders(root / kind.folder)


def _folders(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.is_dir() and not is_hidden(p))
