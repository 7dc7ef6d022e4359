"""Workload 2, end-to-end emails/s with two `ccm worker` processes (two threads each, PostgreSQL): claim, MJML
render, DKIM (RSA-2048), per-customer sealing, write-once archive and chain append, SMTP hand-off to an
aiosmtpd sink in its own process, outcome recorded; against plain `smtplib` handing pre-built messages of
the same size to the same kind of sink over the same number of connections (two, one per process). Goal:
≥ 0.6.

The rate of ours is taken once the workers are warm (from the first 5% sent to the last message), so
process start-up and render-pool warm-up are not counted; the reference's connections are opened before
its clock starts too.

    .venv/bin/python -m benchmarks.workloads.end_to_end [--quick]
    .venv/bin/python -m benchmarks.workloads.end_to_end --compare-with /tmp/ccm-before   # before/after
"""

from __future__ import annotations

import argparse
import signal
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from email import policy
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, select

from benchmarks.delivery import ROOT, database, queue, sent_count, smtp_sink, worker_env
from benchmarks.workloads.result import Result
from ccm.archiving.models import ArchiveEntry
from ccm.database import make_engine

WORKERS = 2
THREADS = 2
GOAL = 0.6


def measure(quick: bool) -> list[Result]:
    messages = 300 if quick else 3000
    with tempfile.TemporaryDirectory() as tmp:
        ours, size = ccm_rate(Path(tmp), messages)
    reference = smtplib_rate(messages, size)
    return [
        Result(
            workload="end-to-end emails/s, 2 workers",
            ours=ours,
            reference=reference,
            unit="emails/s",
            reference_name=f"smtplib, pre-built {size / 1024:.0f} KB messages, {WORKERS} connections",
            goal=GOAL,
            notes=f"{messages} emails, PostgreSQL, {WORKERS} `ccm worker` x{THREADS} threads",
        )
    ]


def ccm_rate(workdir: Path, messages: int, root: Path = ROOT) -> tuple[float, int]:
    """(emails/s once warm, mean size of a sent email in bytes) of `WORKERS` worker processes running the
    code under `root` (this tree by default; another checkout to compare)."""
    with database("postgresql", workdir) as url, smtp_sink() as port:
        queue(url, messages)
        env = worker_env(url, workdir, port)
        env["PYTHONPATH"] = str(root)
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "ccm.cli", "worker", "--concurrency", str(THREADS)], env=env, cwd=root
            )
            for _ in range(WORKERS)
        ]
        try:
            warm = max(1, messages // 20)
            started, first = _when(url, warm, messages)
            finished, _ = _when(url, messages, messages)
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                process.wait(30)
        engine = make_engine(url)
        with Session(engine) as session:
            size = session.exec(select(func.avg(ArchiveEntry.size))).one()
        engine.dispose()
    return (messages - first) / (finished - started), int(size or 0)


def _when(url: str, count: int, total: int) -> tuple[float, int]:
    """The moment at least `count` messages were sent, and how many were."""
    deadline = time.monotonic() + 1800
    while time.monotonic() < deadline:
        sent = sent_count(url)
        if sent >= count:
            return time.monotonic(), sent
        time.sleep(0.05)
    raise TimeoutError(f"fewer than {count} of {total} sent after half an hour")


def prebuilt(size: int, number: int) -> bytes:
    """A finished email of about `size` bytes, as a sender that renders nothing would hand off."""
    message = EmailMessage()
    message["From"] = "Bench <bench@bench.example>"
    message["To"] = f"b{number}@example.com"
    message["Subject"] = f"Your statement {number} is ready"
    line = "x" * 76 + "\n"  # SMTP lines stay short, as a rendered email's are
    message.set_content(line * max(1, (size - 200) // len(line)))
    return message.as_bytes(policy=policy.SMTP)  # CRLF line ends, as on the wire


def _send_share(port: int, payloads: list[bytes], ready_at: float) -> float:
    """Send `payloads` over one connection once the clock reaches `ready_at`; the seconds it took."""
    with smtplib.SMTP("127.0.0.1", port) as connection:
        time.sleep(max(0.0, ready_at - time.time()))
        started = time.perf_counter()
        for n, payload in enumerate(payloads):
            connection.sendmail("bench@bench.example", [f"b{n}@example.com"], payload)
        return time.perf_counter() - started


def smtplib_rate(messages: int, size: int) -> float:
    """Emails/s of `WORKERS` processes, one SMTP connection each, sending pre-built messages."""
    payloads = [prebuilt(size, n) for n in range(messages)]
    shares = [payloads[n::WORKERS] for n in range(WORKERS)]
    with smtp_sink() as port, ProcessPoolExecutor(WORKERS) as pool:
        ready_at = time.time() + 1.0
        durations = list(pool.map(_send_share, [port] * WORKERS, shares, [ready_at] * WORKERS))
    return messages / max(durations)


def compare(before: Path, messages: int, rounds: int) -> None:
    """This tree against another checkout, alternating, the reference measured in each round too."""
    rates: dict[str, list[float]] = {"before": [], "after": [], "smtplib": []}
    for _ in range(rounds):
        for label, root in (("before", before), ("after", ROOT)):
            with tempfile.TemporaryDirectory() as tmp:
                rate, size = ccm_rate(Path(tmp), messages, root)
            rates[label].append(rate)
            print(f"{label:8} {rate:7.1f} emails/s", flush=True)
        rates["smtplib"].append(smtplib_rate(messages, size))
        print(f"smtplib  {rates['smtplib'][-1]:7.1f} emails/s ({size} bytes)", flush=True)
    medians = {label: statistics.median(values) for label, values in rates.items()}
    for label in ("before", "after"):
        print(
            f"{label}: median {medians[label]:.1f} emails/s, ratio {medians[label] / medians['smtplib']:.2f}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="the scaled-down run of `make bench QUICK=1`")
    parser.add_argument("--compare-with", type=Path, help="another checkout of ccm to measure alternately")
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if args.compare_with:
        compare(args.compare_with, args.messages, args.rounds)
    else:
        from benchmarks.workloads.runner import main

        sys.argv = [sys.argv[0], *(["--quick"] if args.quick else [])]
        main(measure)
