"""The click workload's reference: a bare Starlette app that records a click with one INSERT into the same
PostgreSQL and answers 302, served by uvicorn with the settings `ccm serve` uses.

    python -m benchmarks.workloads.bare_click_app --port 8123 --database postgresql+psycopg://…
"""

from __future__ import annotations

import argparse

import uvicorn
from sqlalchemy import create_engine, text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

TABLE = "bare_clicks"
CREATE = f"CREATE TABLE IF NOT EXISTS {TABLE} (id bigserial PRIMARY KEY, token text NOT NULL, at timestamptz)"


def app(database_url: str) -> Starlette:
    """GET /t/c/{token}: one INSERT, then a redirect; no check of anything (that is the point)."""
    engine = create_engine(database_url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    insert = text(f"INSERT INTO {TABLE} (token, at) VALUES (:token, now())")

    def click(request: Request) -> RedirectResponse:  # sync, run in the thread pool as ccm's click is
        with engine.begin() as connection:
            connection.execute(insert, {"token": request.path_params["token"]})
        return RedirectResponse("https://example.com/start", status_code=302)

    return Starlette(routes=[Route("/t/c/{token}", click)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database", required=True)
    args = parser.parse_args()
    uvicorn.run(app(args.database), host="127.0.0.1", port=args.port, log_level="info", proxy_headers=False)


if __name__ == "__main__":
    main()
