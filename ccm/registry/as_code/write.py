"""Latest versions out, as files: what `ccm templates pull` writes, byte for byte what `read` reads back.

Output is deterministic (JSON with sorted keys, two-space indents and a trailing newline; sources exactly as
stored), so pulling twice, or pulling after a push of what was pulled, changes no byte.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ccm.registry.as_code.format import (
    LOCALES_DIR,
    SCHEMA_FILE,
    TEMPLATE_FILE,
    VARIANT_FILE,
    LibraryFormat,
    is_hidden,
    part_files,
)
from ccm.registry.models import LibraryItem, LibraryVersion, Template, TemplateVersion

Files = dict[str, str]
"""A folder's files by their path inside it (`locales/it/sms.txt`), as text."""


def as_json(value: Any) -> str:
    """The one way the format writes JSON."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def template_files(template: Template, version: TemplateVersion) -> Files:
    """A template folder holding `version`: long fields in their files, the rest in template.json."""
    files: Files = {}
    meta: dict[str, Any] = {
        "key": template.key,
        "name": template.name,
        "category": str(template.category),
        "description": template.description,
        "sample_data": version.sample_data,
        **_split_parts(version.parts, "", files),
    }
    if template.topic is not None:
        meta["topic"] = template.topic
    if version.layout is not None:
        meta["layout"] = version.layout
    if version.data_schema is None:
        meta["schema"] = False
    else:
        files[SCHEMA_FILE] = as_json(version.data_schema)
    for tag, variant in sorted((version.locales or {}).items()):
        _variant_files(f"{LOCALES_DIR}/{tag}/", variant, files)
    files[TEMPLATE_FILE] = as_json(meta)
    return files


def library_files(kind: LibraryFormat, item: LibraryItem, version: LibraryVersion) -> Files:
    """A layout or partial folder holding `version`: its metadata file and one file per source it has."""
    files = {
        name: version.content[source]
        for source, name in kind.files
        if version.content.get(source) is not None
    }
    files[kind.meta_file] = as_json({"key": item.key, "name": item.name})
    return files


def _variant_files(base: str, variant: dict[str, Any], files: Files) -> None:
    """A locale's folder; its template.json only when it has short fields or nulls, or no file at all."""
    before = len(files)
    short = _split_parts(variant, base, files)
    if short or len(files) == before:
        files[base + VARIANT_FILE] = as_json(short)


def _split_parts(parts: dict[str, Any], base: str, files: Files) -> dict[str, dict[str, Any]]:
    """Put each part's long text fields into `files`; returns the other fields by channel (an empty part
    stays, as `{}`, so it reads back)."""
    short: dict[str, dict[str, Any]] = {}
    for channel, fields in sorted(parts.items()):
        names = part_files(channel)
        rest = {}
        for name, value in fields.items():
            if name in names and isinstance(value, str):
                files[base + names[name]] = value
            else:
                rest[name] = value
        if rest or not fields:
            short[channel] = rest
    return short


def write_folder(folder: Path, files: Files) -> bool:
    """Make `folder` hold exactly `files` (hidden files aside), rewriting only what differs; returns whether
    anything changed."""
    changed = False
    for relative, text in sorted(files.items()):
        path, data = folder / relative, text.encode("utf-8")
        if path.is_file() and path.read_bytes() == data:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        changed = True
    for path in sorted(folder.rglob("*"), reverse=True):  # the deepest first, so emptied folders go too
        inside = path.relative_to(folder)
        if any(is_hidden(Path(part)) for part in inside.parts):
            continue
        if path.is_file() and inside.as_posix() not in files:
            path.unlink()
            changed = True
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return changed
