"""`ccm templates pull` and `push`: the registry's latest versions to a folder, and a folder back as drafts.

Push saves a new draft only where the folder's content differs from the latest version's (by checksum), and
never submits or publishes: drafts go live the usual way, reviewed where their category asks for it. A push
is one unit of work: every folder is read before anything is saved, and any refusal saves nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlmodel import Session, select

from ccm.errors import ApiError
from ccm.registry import library, service
from ccm.registry.as_code.format import (
    LIBRARY_FORMATS,
    MalformedFolder,
    library_folders,
    template_folders,
)
from ccm.registry.as_code.read import (
    LibraryFolder,
    Origins,
    TemplateFolder,
    origin_of,
    read_library_item,
    read_template,
)
from ccm.registry.as_code.write import library_files, template_files, write_folder
from ccm.registry.models import LibraryItem, Template, TemplateVersion


def pull(session: Session, root: Path) -> list[str]:
    """Write every layout's, partial's and template's latest version under `root`; one line per item."""
    lines = []
    for kind in LIBRARY_FORMATS:
        for item in library.list_items(session, kind.kind):
            latest = library.versions_of(session, item)[-1]
            changed = write_folder(root / kind.folder / item.key, library_files(kind, item, latest))
            lines.append(_pulled(f"{kind.kind} {item.key}", latest.number, latest.status, changed))
    for template in service.list_templates(session):
        version = service.latest_version(session, template)
        changed = write_folder(root / template.key, template_files(template, version))
        lines.append(_pulled(f"template {template.key}", version.number, version.status, changed))
    return lines


def push(session: Session, root: Path, author: str) -> list[str]:
    """Save each folder under `root` whose content differs from its item's latest version as a new draft
    (a new item: created, as a draft); one line per item. Layouts and partials go first."""
    if not root.is_dir():
        raise MalformedFolder(root, "no such folder")
    items = [
        read_library_item(folder, kind) for kind in LIBRARY_FORMATS for folder in library_folders(root, kind)
    ]
    templates = [read_template(folder) for folder in template_folders(root)]
    lines = [_push_library_item(session, item, author) for item in items]
    return lines + [_push_template(session, folder, author) for folder in templates]


def _pulled(label: str, number: int, status: str, changed: bool) -> str:
    return f"{label}: v{number} ({status}) {'written' if changed else 'unchanged'}"


def _push_library_item(session: Session, folder: LibraryFolder, author: str) -> str:
    kind, label = folder.kind.kind, f"{folder.kind.kind} {folder.key}"
    statement = select(LibraryItem).where(LibraryItem.kind == kind, LibraryItem.key == folder.key)
    item = session.exec(statement).first()
    with _naming_files(folder.origins):
        if item is None:
            library.create_item(session, kind, folder.key, folder.name, folder.content, author)
            return f"{label}: created (draft v1)"
        latest = library.versions_of(session, item)[-1]
        if library.content_checksum(folder.content) == latest.checksum:
            return f"{label}: unchanged (v{latest.number}){_renamed(item.name, folder.name)}"
        version = library.add_version(session, kind, folder.key, folder.content, author)
    return f"{label}: new draft v{version.number}{_renamed(item.name, folder.name)}"


def _push_template(session: Session, folder: TemplateFolder, author: str) -> str:
    request, label = folder.request, f"template {folder.request.key}"
    template = session.exec(select(Template).where(Template.key == request.key)).first()
    with _naming_files(folder.origins):
        if template is None:
            service.create_template(session, request, author=author)
            return f"{label}: created (draft v1)"
        latest = service.latest_version(session, template)
        note = _metadata_note(template, folder)
        if _checksum(folder, latest) == latest.checksum:
            return f"{label}: unchanged (v{latest.number}){note}"
        version = service.add_version(session, request.key, request, author=author)
    return f"{label}: new draft v{version.number}{note}"


def _checksum(folder: TemplateFolder, latest: TemplateVersion) -> str:
    """The folder's content checksum as a version saved from it would have, with the partial pins (and the
    pinned sources a proposed schema reads) of the latest version: a save pins the partials live then, and
    the folder does not name them."""
    request = folder.request
    return service.checksum(
        request.parts,
        request.sample_data,
        locales=request.locales,
        data_schema=service.schema_for(request, latest.library),
        layout=request.layout.model_dump() if request.layout else None,
        partials=latest.partials,
    )


def _metadata_note(template: Template, folder: TemplateFolder) -> str:
    """Name, category, description and topic belong to the template, not to a version: push leaves them."""
    request = folder.request
    given = (request.name, str(request.category), request.description, request.topic)
    if given == (template.name, str(template.category), template.description, template.topic):
        return ""
    return "; its name, category, description or topic differ from the registry's, which push does not change"


def _renamed(name: str, given: str) -> str:
    return "" if name == given else f"; its name differs from the registry's ({name!r}), which push keeps"


@contextmanager
def _naming_files(origins: Origins) -> Iterator[None]:
    """A refusal of the registry (a source that does not compile, a layout not published) as a problem of
    the file the refused field came from."""
    try:
        yield
    except MalformedFolder:
        raise
    except ApiError as error:
        raise MalformedFolder(origin_of(error.field, origins), error.message) from error
