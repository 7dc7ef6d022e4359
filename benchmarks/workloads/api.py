"""Workload 6, `POST /v1/messages` accepted/s with 8 concurrent clients: `ccm serve --no-worker` on
PostgreSQL beside the floor, a bare FastAPI endpoint doing one INSERT into the same database
(`api_floor.py`), both under uvicorn in one process as `ccm serve` runs. Both servers stay up; rounds
alternate between them, so a burst of other work on a shared machine falls on both alike. The sends are
the starter `otp` template's (a one-time code by SMS, each with its own Idempotency-Key). p50/p99 of both
go in the notes. Goals: ratio >= 0.5, p50 <= 3x the floor's.

    .venv/bin/python -m benchmarks.workloads.api [--quick]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchmarks.delivery import ROOT, database, free_port, wait_for, worker_env
from benchmarks.workloads.result import Result
from benchmarks.workloads.runner import main
from ccm.access.models import Role
from ccm.access.service import create_api_key
from ccm.customers.models import Customer
from ccm.database import make_engine, session_scope
from ccm.registry.starter import load_starter_templates

CLIENTS = 8
GOAL = 0.5
P50_GOAL = 3.0
STARTUP_SECONDS = 90


@dataclass
class Side:
    """One server under load: where it listens, and every latency and busy second measured on it."""

    base: str
    pid: int
    headers: dict[str, str]
    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0
    cpu: float = 0.0
    """Seconds of CPU the server process spent on the measured requests (robust on a busy machine)."""

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.wall

    @property
    def cpu_ms(self) -> float:
        """Server CPU per request, in ms."""
        return self.cpu / len(self.latencies) * 1000

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000


def measure(quick: bool) -> list[Result]:
    """Warm both servers up, then alternate rounds of `requests` sends on each."""
    rounds, requests = (2, 300) if quick else (4, 1500)
    with tempfile.TemporaryDirectory() as tmp, database("postgresql", Path(tmp)) as url:
        key = _seed(url)
        with _ccm(url, Path(tmp)) as (ours_base, ours_pid), _floor(url) as (floor_base, floor_pid):
            ours = Side(ours_base, ours_pid, {"Authorization": f"Bearer {key}"})
            floor = Side(floor_base, floor_pid, {})
            counter = iter(range(10**9))
            for side in (ours, floor):
                _load(side, 50, counter, keep=False)
                _settle(side.pid)
            for _ in range(rounds):
                for side in (ours, floor):
                    _load(side, requests, counter)
    ratio50 = ours.percentile(0.5) / floor.percentile(0.5)
    notes = (
        f"{CLIENTS} clients; p50 {ours.percentile(0.5):.1f} ms vs {floor.percentile(0.5):.1f} ms "
        f"({ratio50:.1f}x, goal <= {P50_GOAL:.0f}x), p99 {ours.percentile(0.99):.1f} ms vs "
        f"{floor.percentile(0.99):.1f} ms; server CPU per request {ours.cpu_ms:.2f} ms vs "
        f"{floor.cpu_ms:.2f} ms"
    )
    reference = "bare FastAPI + one INSERT"
    return [Result("6 api", ours.rate, floor.rate, "accepted/s", reference, GOAL, notes)]


def _seed(url: str) -> str:
    """The starter templates, the customer the sends go to, and a sender's API key."""
    engine = make_engine(url)
    with session_scope(engine) as session:
        load_starter_templates(session, ROOT / "templates")
        session.add(Customer(external_id="c-1", email="ada@example.com", phone="+393471234567"))
        _, key = create_api_key(session, role=Role.SENDER, name="bench")
    engine.dispose()
    return key


@contextmanager
def _ccm(url: str, workdir: Path) -> Iterator[tuple[str, int]]:
    port = free_port()
    env = worker_env(url, workdir, 25, CCM_PORT=str(port), CCM_RUN_WORKER="false")
    with _server([sys.executable, "-m", "ccm.cli", "serve", "--no-worker"], env, port) as server:
        yield server


@contextmanager
def _floor(url: str) -> Iterator[tuple[str, int]]:
    port = free_port()
    env = {**os.environ, "CCM_FLOOR_DATABASE_URL": url}
    command = [sys.executable, "-m", "uvicorn", "benchmarks.workloads.api_floor:app", "--port", str(port)]
    with _server(command, env, port) as server:
        yield server


@contextmanager
def _server(command: list[str], env: dict[str, str], port: int) -> Iterator[tuple[str, int]]:
    """The server running until the block ends; its log is shown if it does not come up."""
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
        base = f"http://127.0.0.1:{port}"
        try:
            try:
                wait_for(lambda: httpx.get(f"{base}/health", timeout=1).status_code == 200, STARTUP_SECONDS)
            except TimeoutError:
                log.seek(0)
                raise RuntimeError(f"{command[2]} did not start: {log.read()[-2000:].decode()}") from None
            yield base, process.pid
        finally:
            process.terminate()
            process.wait(30)


def _load(side: Side, total: int, counter: Iterator[int], keep: bool = True) -> None:
    """`total` sends from `CLIENTS` threads; their latencies and the wall time added to `side`'s."""
    latencies: list[float] = []
    lock = threading.Lock()
    budget = iter(range(total))

    def client() -> None:
        with httpx.Client(base_url=side.base, headers=side.headers, timeout=30) as http:
            for _ in budget:
                with lock:
                    n = next(counter)
                latencies.append(_post(http, n))

    started, cpu = time.perf_counter(), _cpu_seconds(side.pid)
    _run_threads(client)
    if keep:
        side.wall += time.perf_counter() - started
        side.cpu += _cpu_seconds(side.pid) - cpu
        side.latencies += latencies


def _settle(pid: int, timeout: float = 30.0) -> None:
    """Wait until server `pid` is idle: `ccm serve` warms its render pool in the background after it
    answers /health (a forkserver importing the renderers, about a second of CPU), a one-off that must not be
    counted as CPU per request (it was up to ~2 ms of it in a `--quick` run)."""
    deadline = time.monotonic() + timeout
    before = _cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = _cpu_seconds(pid)
        if now - before < 0.02:
            return
        before = now


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process `pid` and its descendants (the render pool's processes),
    from Linux's `/proc`."""
    stats: dict[int, list[str]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            stats[int(stat.parent.name)] = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, ValueError):
            continue  # gone meanwhile
    tree, grew = {pid}, True
    while grew:
        found = {p for p, fields in stats.items() if int(fields[1]) in tree} - tree
        tree |= found
        grew = bool(found)
    ticks = sum(int(stats[p][11]) + int(stats[p][12]) for p in tree if p in stats)
    return ticks / os.sysconf("SC_CLK_TCK")


def _post(http: httpx.Client, n: int) -> float:
    body: dict[str, Any] = {
        "template": "otp",
        "customer_id": "c-1",
        "data": {"code": f"{n % 1_000_000:06d}", "expires_minutes": 5},
    }
    started = time.perf_counter()
    response = http.post("/v1/messages", json=body, headers={"Idempotency-Key": f"otp-{n}"})
    elapsed = time.perf_counter() - started
    if response.status_code != 202:
        raise RuntimeError(f"{response.status_code}: {response.text[:300]}")
    return elapsed


def _run_threads(client: Callable[[], None]) -> None:
    """`CLIENTS` threads running `client`; the first one's failure is raised here."""
    failures: list[BaseException] = []

    def guarded() -> None:
        try:
            client()
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=guarded) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


if __name__ == "__main__":
    main(measure)
