"""Loads the starter template library (`templates/<key>/`) into the registry, once."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from ccm.access.identity import SYSTEM_IDENTITY
from ccm.registry import service, workflow
from ccm.registry.as_code.format import template_folders
from ccm.registry.as_code.read import read_template
from ccm.registry.models import Template


def load_starter_templates(session: Session, templates_dir: Path) -> list[str]:
    """Create and publish each starter template the registry does not have yet; returns the keys added.

    The system publishes them without a review: they ship with the code, which is reviewed where it is kept.
    """
    added = []
    for folder in template_folders(templates_dir):
        request = read_template(folder).request  # the folder format `ccm templates push` reads too
        if session.exec(select(Template).where(Template.key == request.key)).first() is not None:
            continue
        service.create_template(session, request, author=SYSTEM_IDENTITY)
        workflow.publish(session, request.key, 1, SYSTEM_IDENTITY, approval_categories=())
        added.append(request.key)
    return added
