"""An uploaded batch input, kept under `$CCM_DATA_DIR/batches/` for as long as its run reads it: the run's
checkpoint points into this file, so a restarted server goes on from the same byte."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import BinaryIO

from ccm.batches.inputs import InputError, source_of
from ccm.batches.models import BatchSource
from ccm.errors import Unprocessable

BLOCK = 1 << 20


def uploads_dir(data_dir: Path) -> Path:
    folder = data_dir / "batches"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_upload(data_dir: Path, filename: str | None, stream: BinaryIO) -> tuple[Path, BatchSource]:
    """Copy the upload to a fresh file a block at a time; 422 for a name that is not .jsonl/.csv or an
    empty file (nothing is kept then)."""
    try:
        source = source_of(filename or "")
    except InputError as error:
        raise Unprocessable(str(error), field="file", code="unsupported_input") from None
    target = uploads_dir(data_dir) / f"{uuid.uuid4().hex}.{source.value}"
    with target.open("wb") as out:
        shutil.copyfileobj(stream, out, BLOCK)
    if target.stat().st_size == 0:
        target.unlink()
        raise Unprocessable("the uploaded file is empty", field="file", code="empty_input")
    return target, source


def remove_upload(path: Path | None) -> None:
    if path is not None:
        path.unlink(missing_ok=True)
