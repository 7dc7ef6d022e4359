"""Workload 7, click redirects/s and p99: ccm's tracked link (`GET /t/c/{token}` under `ccm serve
--no-worker`: the signed token verified, the message looked up, the click judged person or machine and
recorded on the timeline, then the 302) against a bare Starlette app that records the click with one INSERT
into the same PostgreSQL and redirects, under the same uvicorn settings, with the same client and
concurrency. Goal: ≥ 0.7.

    .venv/bin/python -m benchmarks.workloads.clicks [--quick]
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text
from sqlmodel import select

from benchmarks.workloads.bare_click_app import CREATE
from benchmarks.workloads.http_load import Load, cycle, run_load
from benchmarks.workloads.postgres import fresh_database
from benchmarks.workloads.result import Result
from benchmarks.workloads.runner import main
from ccm.communications.models import Message, MessageStatus
from ccm.customers.models import Customer
from ccm.database import make_engine, session_scope, utcnow
from ccm.engagement.links import EngagementLinks
from ccm.engagement.tokens import TokenSigner
from ccm.registry.models import TemplateVersion
from ccm.registry.starter import load_starter_templates

ROOT = Path(__file__).resolve().parents[2]
SECRET = "bench-secret-" + "x" * 32
CONNECTIONS = 8
BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/126.0.0.0 Safari/537.36"
)
GOAL = 0.7


def measure(quick: bool) -> list[Result]:
    """Both servers start together on one database (an idle one costs nothing), then take turns under
    the same load — ccm, the reference, ccm, the reference — so a change in the machine's load falls on
    both alike."""
    seconds = 3.0 if quick else 15.0
    with (
        fresh_database() as url,
        tempfile.TemporaryDirectory(prefix="ccm-bench-clicks-") as folder,
        server(ccm_command(), ccm_env(url, Path(folder))) as ccm,
        server(bare_command(url), None) as bare,
    ):
        paths = click_paths(url, messages=2_000 if quick else 10_000)
        bare_paths = ["/t/c/" + uuid.uuid4().hex for _ in range(1000)]
        turns = [(ccm.wait(), paths, ccm), (bare.wait(), bare_paths, bare)]
        for port, some, _ in turns:
            warm_up(port, some)
        cpu = [0.0, 0.0]
        runs = []
        for _ in range(2):
            for side, (port, some, process) in enumerate(turns):
                before = process.cpu_seconds()
                runs.append(load(port, some, seconds / 2))
                cpu[side] += process.cpu_seconds() - before
    ours, reference = combined(runs[0::2]), combined(runs[1::2])
    notes = (
        f"{CONNECTIONS} connections; p50/p99 ccm {ours.p50_ms:.1f}/{ours.p99_ms:.1f} ms, "
        f"bare {reference.p50_ms:.1f}/{reference.p99_ms:.1f} ms; server CPU per request "
        f"ccm {cpu[0] / ours.requests * 1000:.2f} ms, bare {cpu[1] / reference.requests * 1000:.2f} ms"
    )
    return [
        Result("7 clicks", ours.rate, reference.rate, "redirects/s", "bare Starlette+INSERT", GOAL, notes)
    ]


def combined(runs: list[Load]) -> Load:
    """Rounds of one server as one run: rates add up over the total time, percentiles are the worst."""
    statuses: Counter[int] = Counter()
    for run in runs:
        statuses += run.statuses
    return Load(
        sum(r.requests for r in runs),
        sum(r.seconds for r in runs),
        max(r.p50_ms for r in runs),
        max(r.p99_ms for r in runs),
        statuses,
    )


def warm_up(port: int, paths: list[str]) -> None:
    """The first requests fill connection pools and caches."""
    run_load(port, cycle(paths[-50:]), connections=CONNECTIONS, seconds=0.5, user_agent=BROWSER)


def load(port: int, paths: list[str], seconds: float) -> Load:
    """One measured run; every answer must be the 302."""
    result = run_load(port, cycle(paths), connections=CONNECTIONS, seconds=seconds, user_agent=BROWSER)
    if set(result.statuses) != {302}:
        raise RuntimeError(f"expected only 302 answers, got {dict(result.statuses)}")
    return result


def click_paths(url: str, *, messages: int) -> list[str]:
    """`messages` emails sent an hour ago to one customer, and one tracked link of each."""
    engine = make_engine(url)
    with session_scope(engine) as session:
        load_starter_templates(session, ROOT / "templates")
        customer = Customer(external_id="c-1", email="ada@example.com")
        session.add(customer)
        session.flush()
        version = session.exec(select(TemplateVersion).limit(1)).one()
        assert customer.id is not None and version.id is not None
        sent_at = utcnow() - timedelta(hours=1)
        ids = [str(uuid.uuid4()) for _ in range(messages)]
        session.add_all(
            Message(
                id=message_id,
                customer_id=customer.id,
                template_version_id=version.id,
                template_key="welcome",
                template_version=version.number,
                category="transactional",
                channel="email",
                recipient="ada@example.com",
                status=MessageStatus.SENT,
                context={},
                context_sha256="0" * 64,
                sent_at=sent_at,
            )
            for message_id in ids
        )
        session.execute(text(CREATE))
    engine.dispose()
    links = EngagementLinks("http://127.0.0.1", TokenSigner(SECRET))
    return [links.click_url(m, "https://example.com/start").removeprefix("http://127.0.0.1") for m in ids]


def ccm_command() -> list[str]:
    return [
        sys.executable,
        "-m",
        "ccm.cli",
        "serve",
        "--no-worker",
        "--host",
        "127.0.0.1",
        "--port",
        "{port}",
    ]


def bare_command(url: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "benchmarks.workloads.bare_click_app",
        "--port",
        "{port}",
        "--database",
        url,
    ]


def ccm_env(url: str, folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCM_")}
    env.update(
        {
            "CCM_DATABASE_URL": url,
            "CCM_DATA_DIR": str(folder),
            "CCM_SECRET_KEY": SECRET,
            "CCM_ENV": "development",
        }
    )
    return env


class Server:
    """A server process started on a free port; `wait()` returns the port once it accepts connections."""

    def __init__(self, command: list[str], env: dict[str, str] | None) -> None:
        self.port = free_port()
        # a file, not a pipe: a full pipe would stall the server
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        argv = [part.replace("{port}", str(self.port)) for part in command]
        self.child = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=self.log)

    def wait(self, timeout: float = 90) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.child.poll() is not None:
                self.log.seek(0)
                error = self.log.read().decode(errors="replace")[-400:]
                raise RuntimeError(f"server exited {self.child.returncode}: {error}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self.port
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not listen on {self.port} within {timeout:.0f} s")

    def cpu_seconds(self) -> float:
        """User + system CPU the server process has used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.child.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.child.terminate()
        try:
            self.child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.child.kill()
            self.child.wait()
        self.log.close()


@contextmanager
def server(command: list[str], env: dict[str, str] | None) -> Iterator[Server]:
    """A server for the block's duration."""
    started = Server(command, env)
    try:
        yield started
    finally:
        started.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


if __name__ == "__main__":
    main(measure)
