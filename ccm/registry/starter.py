"""Loads the starter template library (`templates/<key>/`) into the registry, once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from ccm.access.identity import SYSTEM_IDENTITY
from ccm.channels import all_channels
from ccm.registry import service, workflow
from ccm.registry.models import Template
from ccm.registry.schemas import TemplateCreate


def read_starter_template(folder: Path) -> TemplateCreate:
    """One folder as a create request; the folder layout is described in templates/README.md."""
    meta: dict[str, Any] = json.loads((folder / "template.json").read_text(encoding="utf-8"))
    parts: dict[str, dict[str, Any]] = {}
    for spec in all_channels():
        if isinstance(meta.get(spec.key), dict):  # short fields (a subject, a flag) sit in template.json
            parts[spec.key] = dict(meta[spec.key])
        for field, filename in spec.starter_files:
            path = folder / filename
            if path.is_file():
                parts.setdefault(spec.key, {})[field] = path.read_text(encoding="utf-8")
    return TemplateCreate.model_validate(
        {
            "key": meta.get("key", folder.name),
            "name": meta["name"],
            "category": meta["category"],
            "description": meta.get("description", ""),
            "sample_data": meta.get("sample_data", {}),
            "parts": parts,
            **_schema_file(folder),
        }
    )


def _schema_file(folder: Path) -> dict[str, Any]:
    """The folder's `schema.json` (its data contract) as the request's `schema`; absent: one is proposed."""
    path = folder / "schema.json"
    return {"schema": json.loads(path.read_text(encoding="utf-8"))} if path.is_file() else {}


def starter_folders(templates_dir: Path) -> list[Path]:
    return sorted(p for p in templates_dir.iterdir() if p.is_dir() and (p / "template.json").is_file())


def load_starter_templates(session: Session, templates_dir: Path) -> list[str]:
    """Create and publish each starter template the registry does not have yet; returns the keys added.

    The system publishes them without a review: they ship with the code, which is reviewed where it is kept.
    """
    added = []
    for folder in starter_folders(templates_dir):
        request = read_starter_template(folder)
        if session.exec(select(Template).where(Template.key == request.key)).first() is not None:
            continue
        service.create_template(session, request, author=SYSTEM_IDENTITY)
        workflow.publish(session, request.key, 1, SYSTEM_IDENTITY, approval_categories=())
        added.append(request.key)
    return added
