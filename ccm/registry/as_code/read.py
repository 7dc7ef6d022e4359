"""Folders in, create requests out: a template folder as a `TemplateCreate`, a layout or partial folder as
its key, name and content. Every problem names the file it is in (`MalformedFolder`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ccm.channels import all_channels, is_channel
from ccm.registry.as_code.format import (
    LOCALES_DIR,
    SCHEMA_FILE,
    TEMPLATE_FILE,
    TEMPLATE_KEYS,
    VARIANT_FILE,
    LibraryFormat,
    MalformedFolder,
    is_hidden,
)
from ccm.registry.locales import normalise_locale_tag
from ccm.registry.schemas import LIBRARY_SHAPES, TemplateCreate

Model = TypeVar("Model", bound=BaseModel)
Origins = dict[str, Path]
"""Which file each request field came from (`"parts.sms.text"` -> `<key>/sms.txt`), to name it in errors."""


@dataclass(frozen=True)
class TemplateFolder:
    path: Path
    request: TemplateCreate
    origins: Origins = field(default_factory=dict)


@dataclass(frozen=True)
class LibraryFolder:
    path: Path
    kind: LibraryFormat
    key: str
    name: str
    content: dict[str, Any]
    origins: Origins = field(default_factory=dict)


def read_template(folder: Path) -> TemplateFolder:
    """One template folder as a create request; the layout is described in templates/README.md."""
    meta_path = folder / TEMPLATE_FILE
    meta = read_object(meta_path)
    _refuse_unknown_keys(meta_path, meta, TEMPLATE_KEYS | {spec.key for spec in all_channels()})
    _refuse_unknown_files(folder, {TEMPLATE_FILE, SCHEMA_FILE, *_part_file_names()}, {LOCALES_DIR})
    origins: Origins = {"": meta_path}
    body = {name: meta[name] for name in TEMPLATE_KEYS & meta.keys()}
    body["key"] = folder_key(folder, meta, meta_path)
    body["parts"] = _read_parts(folder, meta, meta_path, origins, "parts")
    body["locales"] = _read_locales(folder / LOCALES_DIR, origins)
    body.update(_schema(folder, meta, origins))
    return TemplateFolder(folder, validated(TemplateCreate, body, origins), origins)


def read_library_item(folder: Path, kind: LibraryFormat) -> LibraryFolder:
    """One layout or partial folder: its metadata file (`name`) and one file per source."""
    meta_path = folder / kind.meta_file
    meta = read_object(meta_path)
    _refuse_unknown_keys(meta_path, meta, {"key", "name"})
    _refuse_unknown_files(folder, {kind.meta_file, *(name for _, name in kind.files)}, set())
    origins: Origins = {"": meta_path}
    body: dict[str, Any] = {"key": folder_key(folder, meta, meta_path), "name": meta.get("name")}
    for source, filename in kind.files:
        if (folder / filename).is_file():
            body[source], origins[source] = read_text(folder / filename), folder / filename
    create, content = LIBRARY_SHAPES[kind.kind]
    request = validated(create, body, origins).model_dump()
    fields = {name: request[name] for name in content.model_fields}
    return LibraryFolder(folder, kind, request["key"], request["name"], fields, origins)


def origin_of(field: str | None, origins: Origins) -> Path:
    """The file a request field (`parts.email.subject`, `locales.it.sms.text`) was read from: the nearest
    one recorded for it or a field containing it, else the metadata file."""
    parts = (field or "").split(".")
    for end in range(len(parts), -1, -1):
        path = origins.get(".".join(parts[:end]))
        if path is not None:
            return path
    return origins[""]


def validated(model: type[Model], body: dict[str, Any], origins: Origins) -> Model:
    """The request, or the first problem pydantic finds, named with the file of the field it is in."""
    try:
        return model.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        problem = f"{where}: {first['msg']}" if where else first["msg"]
        raise MalformedFolder(origin_of(where, origins), problem) from None


def folder_key(folder: Path, meta: dict[str, Any], meta_path: Path) -> str:
    """The folder's name is the key; a `key` in the metadata file must repeat it."""
    if "key" in meta and meta["key"] != folder.name:
        problem = f"'key' is {meta['key']!r} but the folder is named {folder.name!r}: they must be the same"
        raise MalformedFolder(meta_path, problem)
    return folder.name


def read_text(path: Path) -> str:
    """A source as its exact bytes say (line endings kept), so what is pulled is pushed unchanged."""
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedFolder(path, f"not UTF-8 text (byte {error.start})") from None


def read_object(path: Path) -> dict[str, Any]:
    """A JSON file holding an object."""
    if not path.is_file():
        raise MalformedFolder(path, "missing: every folder of the format has this file")
    try:
        value = json.loads(read_text(path))
    except json.JSONDecodeError as error:
        raise MalformedFolder(
            path, f"not JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from None
    if not isinstance(value, dict):
        raise MalformedFolder(path, "must hold a JSON object")
    return value


def _part_file_names() -> set[str]:
    return {name for spec in all_channels() for _, name in spec.starter_files}


def _refuse_unknown_keys(path: Path, meta: dict[str, Any], allowed: set[str] | frozenset[str]) -> None:
    unknown = sorted(set(meta) - allowed)
    if unknown:
        raise MalformedFolder(path, f"unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")


def _refuse_unknown_files(folder: Path, files: set[str], folders: set[str]) -> None:
    """A file the format does not name (a typo like `sms.text`) would be silently left out: refuse it."""
    for path in sorted(p for p in folder.iterdir() if not is_hidden(p)):
        if path.name not in (folders if path.is_dir() else files):
            expected = ", ".join(sorted(files) + [f"{name}/" for name in sorted(folders)])
            raise MalformedFolder(path, f"not part of the format (expected: {expected})")


def _read_parts(
    folder: Path, short: dict[str, Any], json_path: Path, origins: Origins, prefix: str
) -> dict[str, dict[str, Any]]:
    """Each channel's short fields from the JSON file, then its long ones from their files (`sms.txt`)."""
    parts: dict[str, dict[str, Any]] = {}
    for spec in all_channels():
        if spec.key in short:
            if not isinstance(short[spec.key], dict):
                raise MalformedFolder(json_path, f"'{spec.key}' must be an object of the part's fields")
            parts[spec.key] = dict(short[spec.key])
            origins.update({f"{prefix}.{spec.key}.{name}": json_path for name in parts[spec.key]})
        for name, filename in spec.starter_files:
            path = folder / filename
            if not path.is_file():
                continue
            if name in parts.get(spec.key, {}):
                raise MalformedFolder(
                    path, f"{spec.key}.{name} is also given in {json_path.name}: give it once"
                )
            parts.setdefault(spec.key, {})[name] = read_text(path)
            origins[f"{prefix}.{spec.key}.{name}"] = path
    return parts


def _read_locales(directory: Path, origins: Origins) -> dict[str, Any]:
    """`locales/<tag>/`: each variant's files, named as the default parts' are."""
    if not directory.is_dir():
        return {}
    origins["locales"] = directory
    variants: dict[str, Any] = {}
    for folder in sorted(p for p in directory.iterdir() if not is_hidden(p)):
        if not folder.is_dir():
            raise MalformedFolder(
                folder, "the locales folder holds one folder per locale tag ('it', 'de-CH')"
            )
        _refuse_unknown_files(folder, {VARIANT_FILE, *_part_file_names()}, set())
        json_path = folder / VARIANT_FILE
        short = read_object(json_path) if json_path.is_file() else {}
        unknown = sorted(name for name in short if not is_channel(name))
        if unknown:
            raise MalformedFolder(json_path, f"{unknown[0]!r} is not a channel: a variant holds parts only")
        prefix = f"locales.{_tag(folder.name)}"
        origins[prefix] = folder
        variants[folder.name] = _read_parts(folder, short, json_path, origins, prefix)
    return variants


def _tag(name: str) -> str:
    try:
        return normalise_locale_tag(name)
    except ValueError:
        return name  # validation refuses it, naming the locale


def _schema(folder: Path, meta: dict[str, Any], origins: Origins) -> dict[str, Any]:
    """`schema.json` as the request's schema; `"schema": false` in template.json for none; neither: one
    is proposed from the variables the parts use."""
    path = folder / SCHEMA_FILE
    if "schema" in meta and meta["schema"] is not False:
        raise MalformedFolder(
            origins[""], "'schema' may only be false here: the schema itself is schema.json"
        )
    if not path.is_file():
        return {}
    if "schema" in meta:
        raise MalformedFolder(path, 'present although template.json says "schema": false: keep one of them')
    origins["schema"] = path
    return {"schema": read_object(path)}
