"""HTTP for batch runs: `POST /v1/batches` takes the input as an upload (never a server path) and answers
202 once the run is recorded; the scheduler of `ccm serve` queues it chunk by chunk from its checkpoint
(so a restart resumes it) and the workers send it. `GET /v1/batches/{id}` reports its progress."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi import Path as PathParam
from sqlmodel import Session

from ccm.access.models import ApiKey
from ccm.access.permissions import Permission
from ccm.batches.inputs import InputError, survey
from ccm.batches.models import BatchMode, BatchRun, BatchSource
from ccm.batches.progress import failures_of, progress_of
from ccm.batches.runs import RunRequest, get_run, open_run
from ccm.batches.schemas import BatchFailureOut, BatchOut
from ccm.batches.uploads import remove_upload, save_upload
from ccm.dependencies import ReadSessionDep, SessionDep, SettingsDep, require
from ccm.errors import ApiError, Unprocessable
from ccm.validation import TemplateKey

router = APIRouter(prefix="/v1/batches", tags=["batches"])
UPLOAD_PATH = "/v1/batches"
Sender = Annotated[ApiKey, Depends(require(Permission.MESSAGES_SEND))]
Reader = Annotated[ApiKey, Depends(require(Permission.MESSAGES_READ))]
RunId = Annotated[str, PathParam(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")]
RunIdForm = Annotated[str | None, Form(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")]
Limit = Annotated[int, Query(ge=0, le=1000)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]


@router.post("", status_code=202, response_model=BatchOut, responses={404: {}, 409: {}, 413: {}, 422: {}})
def create_batch(
    session: SessionDep,
    settings: SettingsDep,
    caller: Sender,
    template: Annotated[TemplateKey, Form()],
    file: Annotated[UploadFile | None, File(description="a .jsonl or .csv file of documents")] = None,
    segment: Annotated[str | None, Form(min_length=1, max_length=100)] = None,
    data: Annotated[
        str | None, Form(max_length=100_000, description="JSON shared by a segment's documents")
    ] = None,
    channels: Annotated[str | None, Form(max_length=200, description="comma-separated")] = None,
    archive_only: Annotated[bool, Form()] = False,
    run_id: RunIdForm = None,
) -> BatchOut:
    """Start a run over an uploaded JSONL/CSV file (or a saved segment); starting the same input again
    answers the existing run, so a retried upload never sends twice."""
    if (file is None) == (segment is None):
        raise Unprocessable("send either a file or a segment", field="file", code="invalid_input")
    mode = BatchMode.ARCHIVE_ONLY if archive_only else BatchMode.SEND
    common: dict[str, Any] = {
        "template": template,
        "mode": mode,
        "channels": _channels(channels),
        "run_id": run_id,
        "created_by": caller.id,
    }
    if file is None:
        request = RunRequest(
            source=BatchSource.SEGMENT,
            input_name=f"segment:{segment}",
            segment=segment,
            data=_data(data),
            **common,
        )
        return _start(session, request)
    if data is not None:
        raise Unprocessable("data goes with a segment; a file carries each document's data", field="data")
    session.commit()  # end the key check's transaction (on SQLite a write lock) while the file is copied
    path, source = save_upload(settings.data_dir, file.filename, file.file)
    try:
        surveyed = survey(path, source)
    except InputError as error:
        remove_upload(path)
        raise Unprocessable(str(error), field="file", code="invalid_input") from None
    name = Path(file.filename or "upload").name
    request = RunRequest(source=source, input_name=name, input_path=path, surveyed=surveyed, **common)
    return _start(session, request, upload=path)


def _start(session: Session, request: RunRequest, upload: Path | None = None) -> BatchOut:
    try:
        run, resumed = open_run(session, request)
    except ApiError:
        remove_upload(upload)
        raise
    if resumed:
        remove_upload(upload)  # the run reads the copy it was started with
    return batch_out(session, run)


def _channels(raw: str | None) -> list[str] | None:
    if raw is None or not raw.strip():
        return None
    return [channel.strip() for channel in raw.split(",") if channel.strip()]


def _data(raw: str | None) -> dict[str, Any]:
    if raw is None:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        raise Unprocessable("data is not JSON", field="data", code="invalid_input") from None
    if not isinstance(value, dict):
        raise Unprocessable("data must be a JSON object", field="data", code="invalid_input")
    return value


@router.get("/{run_id}", response_model=BatchOut, responses={404: {}})
def get_batch(
    run_id: RunId,
    session: ReadSessionDep,
    _caller: Reader,
    failures_limit: Limit = 100,
    failures_offset: Offset = 0,
) -> BatchOut:
    """The run's counters and a page of its failures, by line."""
    return batch_out(session, get_run(session, run_id), limit=failures_limit, offset=failures_offset)


def batch_out(session: Session, run: BatchRun, *, limit: int = 100, offset: int = 0) -> BatchOut:
    progress = progress_of(session, run)
    failures = failures_of(session, run, limit=limit, offset=offset) if limit else []
    return BatchOut(
        id=run.run_id,
        template=run.template_key,
        template_version=run.template_version,
        mode=str(run.mode),
        channels=list(run.channels or []),
        source=str(run.source),
        input_name=run.input_name,
        status=progress.status,
        total=progress.total,
        considered=progress.considered,
        refused=progress.refused,
        queued=progress.queued,
        done=progress.done,
        failed=progress.failed,
        pending=progress.pending,
        pages=progress.pages,
        error=run.error,
        created_at=run.created_at,
        updated_at=run.updated_at,
        finished_at=run.finished_at,
        failures=[BatchFailureOut.model_validate(failure) for failure in failures],
    )
