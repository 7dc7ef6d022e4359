"""The floor workload 6 compares `POST /v1/messages` with: a bare FastAPI endpoint that takes the same JSON
body, does one INSERT into the same PostgreSQL database (committed before it answers 202) and returns an id.
No auth, no validation, no idempotency: what any endpoint that durably accepts a request costs here.

Run by `benchmarks.workloads.api` under uvicorn as `ccm serve` runs (one process, a sync handler in the
threadpool, access log on): `CCM_FLOOR_DATABASE_URL=... python -m uvicorn benchmarks.workloads.api_floor:app`.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import create_engine, text

TABLE = "bench_floor"
engine = create_engine(os.environ.get("CCM_FLOOR_DATABASE_URL", "sqlite://"), pool_size=10, max_overflow=10)


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    """The one table the endpoint writes: an id, the body, when."""
    with engine.begin() as connection:
        connection.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS {TABLE} "
                "(id varchar(36) primary key, body jsonb not null, created_at timestamptz default now())"
            )
        )
    yield
    engine.dispose()


app = FastAPI(lifespan=lifespan)


@app.post("/v1/messages", status_code=202)
def accept(body: dict[str, Any]) -> JSONResponse:
    """One row, committed, then 202."""
    message_id = str(uuid.uuid4())
    with engine.begin() as connection:
        connection.execute(
            text(f"INSERT INTO {TABLE} (id, body) VALUES (:id, CAST(:body AS jsonb))"),
            {"id": message_id, "body": json.dumps(body)},
        )
    return JSONResponse({"messages": [{"id": message_id, "status": "queued"}]}, status_code=202)


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
