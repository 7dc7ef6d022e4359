"""Journey engine throughput: events through the API, step runs and messages through `ccm worker`, against
the same number of plain sends through `POST /v1/messages` on the same workers.

The scenario is the journey kill test's (`tests/ccm/journeys/resilience/scenario.py`): email → wait PT1M →
branch on a human open → SMS → set an attribute, every message to the outbox provider, on a PostgreSQL
database created (127.0.0.1:5432, user postgres) and dropped for each run. `ccm serve --no-worker` takes the
requests while the workers already run, as in production; the wait passes by moving the test clock once every
run has sent its email.

    .venv/bin/python benchmarks/journeys.py                      # 2,000 customers, 1 and 2 workers
    .venv/bin/python benchmarks/journeys.py --customers 10000 --workers 2

Prints, per worker count: events/s enrolled, step runs/s and messages/s for the journey; requests/s and
messages/s for the plain sends; and the journey / plain ratio of messages/s (the engine's overhead).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.delivery import database, free_port  # noqa: E402
from tests.ccm.communications.resilience.conftest import WorkerProcesses, worker_env  # noqa: E402
from tests.ccm.journeys.resilience.scenario import (  # noqa: E402
    SEND_STEPS,
    STEPS,
    TEMPLATES,
    WAIT_PASSED,
    enrol,
    prepare,
    progress,
    publish_journey,
    serving,
    ticking,
)

TIMEOUT = 3600.0


@dataclass(frozen=True)
class Figures:
    requests_per_second: float
    """Events (journey) or sends (plain) accepted by the API, per second."""
    steps_per_second: float
    messages_per_second: float


def until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached in {TIMEOUT:.0f}s")
        time.sleep(0.5)


def run_journey(customers: int, workers: int, clients: int) -> Figures:
    """Enrol every customer while `workers` run the journey; rates from the workers' start."""
    with tempfile.TemporaryDirectory() as tmp, database("postgresql", Path(tmp)) as url:
        work = Path(tmp)
        key = prepare(url, customers)
        port = free_port()
        env = worker_env(
            url, work / "var", base_url=f"http://127.0.0.1:{port}", test_clock_file=str(work / "clock")
        )
        processes = WorkerProcesses(env, work)
        with ticking(work / "clock") as clock, serving(env, port, work / "serve.log") as base:
            publish_journey(base, key)
            try:
                started = time.monotonic()
                for index in range(workers):
                    processes.start(index)
                enrolling = enrol(base, key, customers, clients)
                until(lambda: progress(url).steps.get("mail", 0) == customers, "every email step")
                clock.advance(WAIT_PASSED)
                until(lambda: progress(url).active == 0, "every run ended")
                steps_done = time.monotonic() - started
                messages = customers * len(SEND_STEPS)
                until(lambda: progress(url).sent == messages, "every message sent")
                sent = time.monotonic() - started
            finally:
                processes.stop_all()
        return Figures(customers / enrolling, customers * len(STEPS) / steps_done, messages / sent)


def run_plain(customers: int, workers: int, clients: int) -> Figures:
    """As many single sends as the journey queues (one email and one SMS per customer), each its own
    `POST /v1/messages`, while `workers` run."""
    with tempfile.TemporaryDirectory() as tmp, database("postgresql", Path(tmp)) as url:
        work = Path(tmp)
        key = prepare(url, customers)
        port = free_port()
        env = worker_env(url, work / "var", base_url=f"http://127.0.0.1:{port}")
        processes = WorkerProcesses(env, work)
        messages = customers * len(SEND_STEPS)
        with serving(env, port, work / "serve.log") as base:
            try:
                started = time.monotonic()
                for index in range(workers):
                    processes.start(index)
                posting = post_sends(base, key, customers, clients)
                until(lambda: progress(url).sent == messages, "every message sent")
                sent = time.monotonic() - started
            finally:
                processes.stop_all()
        return Figures(messages / posting, 0.0, messages / sent)


def post_sends(base: str, key: str, customers: int, clients: int) -> float:
    """The journey's two templates to every customer, one request per message; the seconds it took."""
    requests = iter((n, template["key"]) for n in range(customers) for template in TEMPLATES)
    lock = threading.Lock()
    failures: list[str] = []

    def client() -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60) as http:
            while True:
                with lock:
                    item = next(requests, None)
                if item is None:
                    return
                n, template = item
                body = {"template": template, "customer_id": f"j-{n}", "data": {"order": f"A-{n}"}}
                headers = {"Idempotency-Key": f"{template}-{n}"}
                response = http.post("/v1/messages", json=body, headers=headers)
                if response.status_code != 202:
                    failures.append(response.text)

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(failures[:3])
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker process counts to run")
    parser.add_argument("--clients", type=int, default=8, help="concurrent API clients")
    args = parser.parse_args()
    print(f"ccm journey benchmark on {os.cpu_count()} cores, {args.customers} customers, PostgreSQL")
    print(f"journey: {len(STEPS)} steps, {len(SEND_STEPS)} messages per customer (outbox provider)")
    for workers in args.workers:
        journey = run_journey(args.customers, workers, args.clients)
        print(
            f"{workers} worker(s), journey: {journey.requests_per_second:6.1f} events/s enrolled   "
            f"{journey.steps_per_second:6.1f} step runs/s   {journey.messages_per_second:6.1f} messages/s",
            flush=True,
        )
        plain = run_plain(args.customers, workers, args.clients)
        print(
            f"{workers} worker(s), plain:   {plain.requests_per_second:6.1f} sends/s accepted   "
            f"{'':19}{plain.messages_per_second:6.1f} messages/s",
            flush=True,
        )
        ratio = journey.messages_per_second / plain.messages_per_second
        print(f"{workers} worker(s), journey / plain messages/s: x{ratio:.2f}", flush=True)


if __name__ == "__main__":
    main()
