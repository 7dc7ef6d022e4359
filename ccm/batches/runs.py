"""Starting a batch run, or finding the one to resume: a run is named by its input, template version and
mode, so starting the same run again continues it instead of sending anything twice."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from ccm.batches.inputs import Survey, survey
from ccm.batches.models import BatchMode, BatchRun, BatchSource, BatchStatus
from ccm.channels import default_send_channels
from ccm.customers.models import Customer
from ccm.customers.segments import get_segment
from ccm.customers.segments import where as segment_where
from ccm.errors import Conflict, NotFound
from ccm.registry.models import TemplateVersion
from ccm.registry.service import channels_for, get_template, require_published

ARCHIVE_CHANNELS = ["pdf"]
"""What an archive-only (print) run renders when it names no channels."""


@dataclass
class RunRequest:
    """What a run is asked to do: from a file (`input_path`, a JSONL or CSV) or from a saved segment."""

    template: str
    source: BatchSource
    input_name: str
    mode: BatchMode = BatchMode.SEND
    channels: list[str] | None = None
    input_path: Path | None = None
    segment: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    run_id: str | None = None
    created_by: int | None = None
    surveyed: Survey | None = None
    """The file's hash and document count, when the caller has read it already (outside a transaction)."""


def open_run(session: Session, request: RunRequest) -> tuple[BatchRun, bool]:
    """The run to work on and whether it already existed (a resume); 404/422/409 for what cannot run."""
    template = get_template(session, request.template)
    version = require_published(session, template)
    channels = run_channels(version, request)
    sha256, total = _identity(session, request)
    run_id = request.run_id or default_run_id(request, version.number, sha256, channels)
    existing = find_run(session, run_id)
    if existing is not None:
        _check_same_input(existing, request, sha256)
        return existing, True
    run = BatchRun(
        run_id=run_id,
        template_key=template.key,
        template_version=version.number,
        mode=request.mode,
        channels=channels,
        source=request.source,
        input_name=request.input_name[:255],
        input_path=str(request.input_path) if request.input_path else None,
        input_sha256=sha256,
        segment_key=request.segment,
        data=request.data,
        status=BatchStatus.RUNNING,
        total=total,
        created_by=request.created_by,
    )
    session.add(run)
    session.flush()
    return run, False


def run_channels(version: TemplateVersion, request: RunRequest) -> list[str]:
    """The channels each document goes out on: those asked for, else the template's usual send channels,
    or its PDF for a print run; 422 when the template lacks one."""
    if request.mode is BatchMode.ARCHIVE_ONLY:
        return channels_for(version, request.channels or ARCHIVE_CHANNELS, default=default_send_channels)
    return channels_for(version, request.channels, default=default_send_channels)


def default_run_id(request: RunRequest, version: int, sha256: str, channels: list[str]) -> str:
    """Readable and stable: the template, its live version, the mode and a digest of input and channels."""
    digest = hashlib.sha256(f"{sha256}|{request.mode.value}|{','.join(channels)}".encode()).hexdigest()
    mode = "print" if request.mode is BatchMode.ARCHIVE_ONLY else "send"
    return f"{request.template}-v{version}-{mode}-{digest[:16]}"


def _identity(session: Session, request: RunRequest) -> tuple[str, int]:
    """The input's SHA-256 and its number of documents (a segment's: its rule and shared data, and the
    customers it selects now)."""
    if request.source is BatchSource.SEGMENT:
        assert request.segment is not None
        segment = get_segment(session, request.segment, field="segment")
        described = json.dumps({"rule": segment.rule, "data": request.data}, sort_keys=True)
        count = session.exec(
            select(func.count()).select_from(Customer).where(segment_where(session, segment.rule))
        ).one()
        return hashlib.sha256(described.encode()).hexdigest(), int(count)
    assert request.input_path is not None
    surveyed = request.surveyed or survey(request.input_path, request.source)
    return surveyed.sha256, surveyed.documents


def _check_same_input(run: BatchRun, request: RunRequest, sha256: str) -> None:
    """A run id names one input, template and mode: another under the same id is refused, not mixed in."""
    same = (run.input_sha256, run.template_key, run.mode) == (sha256, request.template, request.mode)
    if not same:
        raise Conflict(
            f"run '{run.run_id}' exists for another input, template or mode; pick another --run-id",
            field="run_id",
            code="run_id_taken",
        )


def find_run(session: Session, run_id: str) -> BatchRun | None:
    return session.exec(select(BatchRun).where(BatchRun.run_id == run_id)).first()


def get_run(session: Session, run_id: str) -> BatchRun:
    run = find_run(session, run_id)
    if run is None:
        raise NotFound(f"batch run '{run_id}' not found", field="id", code="batch_not_found")
    return run
