"""Liveness with substance: the database answers and the archive store can be written to."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from archive import ArchiveError
from ccm.archiving.vault import VaultDep
from ccm.dependencies import EngineDep

router = APIRouter(tags=["health"])


@router.get("/health", responses={503: {"description": "a dependency is down"}})
def health(engine: EngineDep, vault: VaultDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:  # any driver error means "not reachable" here
        checks["database"] = f"error: {error.__class__.__name__}"
    try:
        vault.check()
        checks["archive"] = "ok"
    except ArchiveError as error:
        checks["archive"] = f"error: {error}"
    healthy = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ok" if healthy else "degraded", "checks": checks}, 200 if healthy else 503
    )
