"""Workload 5, a statement run: `ccm batch run` of invoices with the starter `invoice-typst` template (its
email with the invoice PDF attached, the PDF on the volume engine, DKIM-signed, archived, handed to an
aiosmtpd sink) on PostgreSQL, one process per core. Measured at two sizes in the same run, 1,000 and 10,000
documents (quick: 100 and 500): docs/s and the peak RSS of the whole process tree (the command, its pool,
their render processes).

The reference is the same command on the smaller input, measured in the same run: ratio = docs/s at the
larger size / docs/s at the smaller, each the steady rate between 10% and 90% of the documents finished
(sampled from the database; the wall-clock rates, start-up included, are in the notes), so 1.0 means the
rate holds as the run grows (nothing in the run slows
with its size: no growing query, no growing memory), and the RSS of both sizes in the notes shows whether
memory stays flat. A rate beside another system's would measure WeasyPrint more than ccm: the per-document
cost of a PDF is workload 4's subject. The quick sizes are smaller than 1,000/10,000 to keep `make bench
QUICK=1` within minutes; the ratio's meaning is the same.

    .venv/bin/python -m benchmarks.workloads.batch [--quick]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func
from sqlalchemy.exc import OperationalError
from sqlmodel import col, select

from benchmarks.delivery import ROOT, smtp_sink, worker_env
from benchmarks.workloads.postgres import fresh_database
from benchmarks.workloads.result import Result
from benchmarks.workloads.runner import main
from ccm.communications.models import Message
from ccm.customers.models import Customer
from ccm.database import make_engine, session_scope
from ccm.registry.starter import load_starter_templates

SIZES = (1_000, 10_000)
QUICK_SIZES = (100, 500)
FINISHED = ("sent", "failed", "bounced", "archived")
LINES = [
    {"description": "Fibre broadband", "quantity": 1, "unit_price": "39.90", "amount": "39.90"},
    {"description": "Router rental", "quantity": 1, "unit_price": "4.50", "amount": "4.50"},
    {"description": "Extra mobile SIM", "quantity": 2, "unit_price": "9.00", "amount": "18.00"},
]


def measure(quick: bool) -> list[Result]:
    small, large = QUICK_SIZES if quick else SIZES
    with tempfile.TemporaryDirectory() as tmp, fresh_database() as url, smtp_sink() as port:
        workdir = Path(tmp)
        _seed(url, large)
        env = worker_env(url, workdir, port, CCM_WORKER_POLL_INTERVAL="0.2")
        first = _run(env, _invoices(workdir / "small.jsonl", small))
        second = _run(env, _invoices(workdir / "large.jsonl", large))
    notes = "; ".join(
        f"{run.documents:,} docs: {run.steady_rate:.2f} docs/s steady, {run.wall_rate:.2f} wall-clock"
        f" ({run.wall_seconds:.0f} s), peak RSS {run.peak_mb:.0f} MB (process tree)"
        for run in (first, second)
    )
    return [
        Result(
            workload=f"batch run, {large:,} invoices (PDF + email)",
            ours=second.steady_rate,
            reference=first.steady_rate,
            unit="docs/s",
            reference_name=f"same run, {small:,} invoices",
            notes=notes,
        )
    ]


def _seed(url: str, customers: int) -> None:
    engine = make_engine(url)
    with session_scope(engine) as session:
        load_starter_templates(session, ROOT / "templates")
    for start in range(0, customers, 2_000):
        with session_scope(engine) as session:
            for n in range(start, min(customers, start + 2_000)):
                session.add(
                    Customer(
                        external_id=f"b-{n}",
                        email=f"b{n}@example.com",
                        locale="en",
                        attributes={"first_name": f"P{n}", "last_name": "Rossi"},
                    )
                )
    engine.dispose()


def _invoices(path: Path, count: int) -> Path:
    """`count` invoices to distinct customers, each with its own number (and so its own PDF)."""
    with path.open("w") as out:
        for n in range(count):
            invoice = {
                "number": f"INV-{path.stem}-{n:06d}",
                "issue_date": "2026-11-01",
                "due_date": "2026-11-30",
                "currency": "EUR",
                "lines": LINES[: 1 + n % 3],
                "total": "62.40",
            }
            out.write(json.dumps({"customer_id": f"b-{n}", "data": {"invoice": invoice}}) + "\n")
    return path


@dataclass(frozen=True)
class Run:
    documents: int
    wall_seconds: float
    steady_rate: float
    """Documents per second between the 10th and the 90th percent finished: the rate the run holds, without
    the start-up (interpreters, render processes, fonts) that a small run cannot amortise."""
    peak_mb: float

    @property
    def wall_rate(self) -> float:
        return self.documents / self.wall_seconds


COMMAND = ["-m", "ccm.cli", "batch", "run", "--template", "invoice-typst", "--channels", "email"]


def _run(env: dict[str, str], path: Path) -> Run:
    """One whole `ccm batch run`, its progress sampled from the database and its memory from /proc."""
    documents = sum(1 for line in path.open() if line.strip())
    finished = _Finished(env["CCM_DATABASE_URL"])
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, *COMMAND, "--input", str(path)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    peak = _PeakRss(process.pid)
    peak.start()
    finished.start()
    output, _ = process.communicate()
    elapsed = time.monotonic() - started
    peak.stop()
    finished.stop()
    if process.returncode not in (0, 1):  # 1: the run finished with some documents failed (in its summary)
        raise RuntimeError(f"ccm batch run exited {process.returncode}: {output.decode()[-500:]}")
    return Run(documents, elapsed, finished.rate(documents), peak.mb)


class _Finished:
    """Samples how many messages have finished, twice a second, to find the run's steady rate."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.base = self._count()
        self.samples: list[tuple[float, int]] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _count(self) -> int:
        with session_scope(self.engine) as session:
            return int(session.exec(select(func.count()).where(col(Message.status).in_(FINISHED))).one())

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()
        self.samples.append((time.monotonic(), self._count() - self.base))
        self.engine.dispose()

    def _loop(self) -> None:
        while not self.stopped.wait(0.5):
            try:
                self.samples.append((time.monotonic(), self._count() - self.base))
            except OperationalError:  # a busy or restarting server: the next sample counts
                continue

    def rate(self, documents: int) -> float:
        low = next(s for s in self.samples if s[1] >= documents * 0.1)
        high = next(s for s in self.samples if s[1] >= documents * 0.9)
        return (high[1] - low[1]) / max(high[0] - low[0], 1e-6)


class _PeakRss:
    """Samples the resident memory of a process and all its descendants (from /proc) until stopped."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kb = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    @property
    def mb(self) -> float:
        return self.peak_kb / 1024

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()

    def _loop(self) -> None:
        while not self.stopped.wait(0.2):
            self.peak_kb = max(self.peak_kb, sum(_rss_kb(pid) for pid in _tree(self.pid)))


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


if __name__ == "__main__":
    main(measure)
