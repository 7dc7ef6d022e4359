"""The customer import page: upload a CSV or JSONL file, import it as `ccm customers import` does, show the
counts and offer the report of rejected rows.

The upload is copied to a file under `$CCM_DATA_DIR/imports/<token>/` a block at a time, imported from there
by `ccm.customers.importing.import_file`, and deleted; only its report stays (for a day) for download.
"""

from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse

from ccm.access.permissions import Permission
from ccm.customers.import_readers import SUFFIXES, UsageError
from ccm.customers.importing import ImportOptions, ImportResult, import_file
from ccm.dependencies import EngineDep, SessionDep, SettingsDep
from ccm.errors import NotFound
from ccm.web.auth import Viewer, form_viewer, page_viewer
from ccm.web.errors import PageRoute
from ccm.web.rendering import ui_page

router = APIRouter(route_class=PageRoute)
UPLOAD_PATH = "/ui/customers/import"
KEEP_SECONDS = 24 * 3600
Reader = Annotated[Viewer, Depends(page_viewer(Permission.CUSTOMERS_WRITE))]
Writer = Annotated[Viewer, Depends(form_viewer(Permission.CUSTOMERS_WRITE))]
Token = Annotated[str, PathParam(pattern=r"^[0-9a-f]{32}$")]
FormatChoice = Annotated[Literal["auto", "csv", "jsonl"], Form()]


@router.get(UPLOAD_PATH)
def import_form(request: Request, viewer: Reader) -> Response:
    return ui_page(request, "ui/customer_import.html", {"viewer": viewer})


@router.post(UPLOAD_PATH)
def import_upload(
    request: Request,
    session: SessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    viewer: Writer,
    file: Annotated[UploadFile, File()],
    fmt: FormatChoice = "auto",
    all_or_nothing: Annotated[bool, Form()] = False,
) -> Response:
    """Import the uploaded file; a file that cannot be imported at all is a 422 page naming why."""
    session.commit()  # end the request's transaction (on SQLite, a write lock): the import commits on its own
    token = uuid.uuid4().hex
    folder = _imports(settings.data_dir) / token
    folder.mkdir(parents=True)
    source = folder / ("upload" + _suffix(file.filename))
    context = {"viewer": viewer, "filename": file.filename or "upload", "token": token}
    try:
        _save(file, source)
        options = ImportOptions(fmt=None if fmt == "auto" else fmt, all_or_nothing=all_or_nothing)
        result = import_file(engine, source, options)
    except (UsageError, UnicodeDecodeError) as error:
        shutil.rmtree(folder, ignore_errors=True)
        context["error"] = _usage_message(error)
        return ui_page(request, "ui/customer_import.html", context, status_code=422)
    finally:
        source.unlink(missing_ok=True)  # the customer data itself is not kept, only the report
    return ui_page(request, "ui/customer_import.html", {**context, "result": _shown(result, all_or_nothing)})


@router.get(UPLOAD_PATH + "/{token}/report.csv")
def import_report(token: Token, settings: SettingsDep, _viewer: Reader) -> Response:
    """The rejected rows of an import made in the last day."""
    reports = list((_imports(settings.data_dir) / token).glob("upload*.report.csv"))
    if not reports:
        raise NotFound("no such import report (reports are kept for a day)", code="report_not_found")
    return FileResponse(reports[0], media_type="text/csv", filename="import-report.csv")


def _imports(data_dir: Path) -> Path:
    """The uploads folder, with imports older than a day removed."""
    folder = data_dir / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - KEEP_SECONDS
    for old in folder.iterdir():
        if old.is_dir() and old.stat().st_mtime < cutoff:
            shutil.rmtree(old, ignore_errors=True)
    return folder


def _suffix(filename: str | None) -> str:
    """The upload's extension when it names a format (so `auto` can go by it); never a path of its own."""
    suffix = Path(filename or "").suffix.lower()
    return suffix if suffix in SUFFIXES else ""


def _save(upload: UploadFile, target: Path) -> None:
    with target.open("wb") as out:
        shutil.copyfileobj(upload.file, out, 1 << 20)


def _usage_message(error: Exception) -> str:
    if isinstance(error, UnicodeDecodeError):
        return "The file is not UTF-8 text."
    if "unknown format" in str(error):
        return "Choose CSV or JSONL: the file's name does not say which it is."
    return str(error)


def _shown(result: ImportResult, all_or_nothing: bool) -> dict[str, object]:
    return {
        "rows": result.rows,
        "imported": result.imported,
        "created": result.created,
        "rejected": result.rejected,
        "all_or_nothing": all_or_nothing,
    }
