"""Delivery throughput and latency on this machine: the figures docs/scaling.md builds its model on.

Runs real parts only: `ccm worker` processes, `ccm serve`, an aiosmtpd sink in its own process, SQLite files
and a PostgreSQL database it creates (127.0.0.1:5432, user postgres) and drops afterwards.

    .venv/bin/python benchmarks/delivery.py                       # everything, default sizes
    .venv/bin/python benchmarks/delivery.py --only workers --messages 2000
    .venv/bin/python benchmarks/delivery.py --only api --requests 2000
    .venv/bin/python benchmarks/delivery.py --only fanout --recipients 100000

Prints one line per figure and the ratios between them (2 workers / 1 worker, PostgreSQL / SQLite).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import psycopg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, insert
from sqlmodel import Session, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ccm.access.identity import SYSTEM_IDENTITY  # noqa: E402
from ccm.access.models import Role  # noqa: E402
from ccm.access.service import create_api_key  # noqa: E402
from ccm.communications.models import Message  # noqa: E402
from ccm.communications.service import create_message  # noqa: E402
from ccm.customers.models import Customer  # noqa: E402
from ccm.database import make_engine, session_scope, utcnow  # noqa: E402
from ccm.migrate import upgrade  # noqa: E402
from ccm.registry import service as registry  # noqa: E402
from ccm.registry import workflow  # noqa: E402
from ccm.registry.schemas import TemplateCreate  # noqa: E402
from ccm.registry.starter import load_starter_templates  # noqa: E402

POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
NOTICE = {
    "key": "notice",
    "name": "Notice",
    "category": "transactional",
    "parts": {
        "email": {
            "subject": "Your statement {{ n }} is ready",
            "mjml": "<mjml><mj-body><mj-section><mj-column>"
            "<mj-text>Hello {{ customer.first_name }}, statement {{ n }} is ready.</mj-text>"
            "<mj-table>{% for line in lines %}<tr><td>{{ line.what }}</td>"
            "<td>{{ line.amount | money('EUR') }}</td></tr>{% endfor %}</mj-table>"
            '<mj-button href="https://example.com/s/{{ n }}">View</mj-button>'
            "</mj-column></mj-section></mj-body></mjml>",
        }
    },
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def database(kind: str, workdir: Path) -> Iterator[str]:
    if kind == "sqlite":
        url = f"sqlite:///{workdir / f'bench-{uuid.uuid4().hex[:6]}.db'}"
        upgrade(url)
        yield url
        return
    name = f"ccm_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def smtp_sink() -> Iterator[int]:
    """aiosmtpd's Sink handler in a process of its own: accepts and discards, like a fast relay."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(10)


def queue(url: str, count: int, customers: int = 500) -> None:
    engine = make_engine(url)
    with session_scope(engine) as session:
        template = registry.create_template(
            session, TemplateCreate.model_validate(NOTICE), author=SYSTEM_IDENTITY
        )
        version = workflow.publish(session, "notice", 1, SYSTEM_IDENTITY, approval_categories=())
        people = [
            Customer(external_id=f"b-{i}", email=f"b{i}@example.com", attributes={"first_name": f"P{i}"})
            for i in range(customers)
        ]
        session.add_all(people)
    lines = [{"what": f"item {i}", "amount": 10 + i} for i in range(5)]
    now = utcnow()
    for start in range(0, count, 2000):
        with session_scope(engine) as session:
            session.add_all([template, version, *people])
            for n in range(start, min(count, start + 2000)):
                person = people[n % customers]
                create_message(
                    session,
                    template=template,
                    version=version,
                    customer=person,
                    channel="email",
                    context={
                        "customer": {"first_name": person.attributes["first_name"]},
                        "n": n,
                        "lines": lines,
                    },
                    due=now,
                    deadline=now + timedelta(hours=2),
                )
    engine.dispose()


def sent_count(url: str) -> int:
    engine = make_engine(url)
    with Session(engine) as session:
        count = session.exec(select(func.count()).select_from(Message).where(Message.status == "sent")).one()
    engine.dispose()
    return int(count)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def dkim_key(workdir: Path) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = workdir / "dkim.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return path


def worker_env(url: str, workdir: Path, smtp_port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCM_")}
    env.update(
        {
            "CCM_ENV": "test",
            "CCM_DATABASE_URL": url,
            "CCM_DATA_DIR": str(workdir / "var"),
            "CCM_SECRET_KEY": "benchmark-secret-" + "x" * 32,
            "CCM_EMAIL_PROVIDER": "smtp",
            "CCM_SMTP_HOST": "127.0.0.1",
            "CCM_SMTP_PORT": str(smtp_port),
            "CCM_EMAIL_FROM": "Bench <bench@bench.example>",
            "CCM_DKIM_DOMAIN": "bench.example",
            "CCM_DKIM_SELECTOR": "s1",
            "CCM_DKIM_PRIVATE_KEY_FILE": str(dkim_key(workdir)),
            "CCM_WORKER_BATCH_SIZE": "50",
            "CCM_WORKER_POLL_INTERVAL": "0.1",
            "CCM_LOG_LEVEL": "WARNING",
        }
    )
    env.update(extra)
    return env


def run_workers(kind: str, workers: int, messages: int, concurrency: int) -> tuple[float, float]:
    """(emails per second, peak RSS of one worker in MB) for `workers` processes draining `messages`."""
    with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp)) as url, smtp_sink() as port:
        queue(url, messages)
        env = worker_env(url, Path(tmp), port)
        started = time.monotonic()
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "ccm.cli", "worker", "--concurrency", str(concurrency)],
                env=env,
                cwd=ROOT,
            )
            for _ in range(workers)
        ]
        try:
            while sent_count(url) < messages:
                if time.monotonic() - started > 3600:
                    raise TimeoutError(f"only {sent_count(url)} of {messages} sent after an hour")
                time.sleep(0.25)
            elapsed = time.monotonic() - started
            rss = max(peak_rss_mb(p.pid) for p in processes)
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                process.wait(30)
        return messages / elapsed, rss


def bench_workers(args: argparse.Namespace) -> None:
    print(
        f"\n== end-to-end email (MJML render, sealed archive, DKIM, SMTP hand-off), {args.messages} messages"
    )
    rates: dict[tuple[str, int], float] = {}
    for kind in args.databases:
        for workers in args.workers:
            rate, rss = run_workers(kind, workers, args.messages, args.concurrency)
            rates[(kind, workers)] = rate
            label = f"{kind:10} {workers} worker(s) x{args.concurrency} threads"
            print(f"{label}: {rate:7.1f} emails/s   peak RSS {rss:.0f} MB")
    for kind in args.databases:
        if {1, 2} <= set(args.workers):
            print(f"{kind:10} 2 workers / 1 worker: x{rates[(kind, 2)] / rates[(kind, 1)]:.2f}")
    if {"sqlite", "postgresql"} <= set(args.databases) and 1 in args.workers:
        print(f"postgresql / sqlite (1 worker): x{rates[('postgresql', 1)] / rates[('sqlite', 1)]:.2f}")


def bench_api(args: argparse.Namespace) -> None:
    print(f"\n== POST /v1/messages, {args.requests} requests, {args.clients} concurrent clients, no worker")
    for kind in args.databases:
        with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp)) as url:
            engine = make_engine(url)
            with session_scope(engine) as session:
                load_starter_templates(session, ROOT / "templates")
                session.add(Customer(external_id="c-1", email="ada@example.com", phone="+393471234567"))
                _, key = create_api_key(session, role=Role.SENDER, name="bench")
            engine.dispose()
            port = free_port()
            env = worker_env(url, Path(tmp), 25, CCM_PORT=str(port), CCM_RUN_WORKER="false")
            server = subprocess.Popen(
                [sys.executable, "-m", "ccm.cli", "serve", "--no-worker"],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                base = f"http://127.0.0.1:{port}"
                health = f"{base}/health"
                wait_for(lambda: httpx.get(health, timeout=1).status_code == 200)  # noqa: B023
                latencies = post_messages(base, key, args.requests, args.clients)
            finally:
                server.terminate()
                server.wait(30)
            wall = latencies.pop()
            ordered = sorted(latencies)
            p50 = statistics.median(ordered) * 1000
            p99 = ordered[int(len(ordered) * 0.99) - 1] * 1000
            print(f"{kind:10} {len(ordered) / wall:7.1f} accepted/s   p50 {p50:.1f} ms   p99 {p99:.1f} ms")


def post_messages(base: str, key: str, total: int, clients: int) -> list[float]:
    """Latencies of `total` sends from `clients` threads; the wall time is appended last."""
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(total))

    def client() -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30) as http:
            for n in counter:
                body = {
                    "template": "otp",
                    "customer_id": "c-1",
                    "data": {"code": f"{n:06d}", "expires_minutes": 5},
                }
                started = time.perf_counter()
                response = http.post("/v1/messages", json=body, headers={"Idempotency-Key": f"otp-{n}"})
                elapsed = time.perf_counter() - started
                if response.status_code != 202:
                    raise RuntimeError(response.text)
                with lock:
                    latencies.append(elapsed)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.append(time.perf_counter() - started)
    return latencies


def bench_fanout(args: argparse.Namespace) -> None:
    from ccm.campaigns.fanout import fan_out
    from ccm.campaigns.schemas import CampaignCreate
    from ccm.campaigns.service import create_campaign
    from ccm.settings import Settings

    print(f"\n== campaign fan-out to {args.recipients} recipients (PostgreSQL)")
    with tempfile.TemporaryDirectory() as tmp, database("postgresql", Path(tmp)) as url:
        engine = make_engine(url)
        with session_scope(engine) as session:
            load_starter_templates(session, ROOT / "templates")
        now = utcnow()
        with engine.begin() as connection:
            for start in range(0, args.recipients, 10_000):
                connection.execute(
                    insert(Customer),
                    [
                        {
                            "external_id": f"f-{i}",
                            "email": f"f{i}@example.com",
                            "locale": "en",
                            "timezone": "UTC",
                            "attributes": {"first_name": f"F{i}", "plan": "pro"},
                            "created_at": now,
                            "updated_at": now,
                        }
                        for i in range(start, min(args.recipients, start + 10_000))
                    ],
                )
        settings = Settings(
            _env_file=None, env="test", database_url=url, data_dir=Path(tmp), secret_key="x" * 40
        )  # type: ignore[call-arg]
        request = CampaignCreate.model_validate(
            {
                "name": "bench",
                "template": "welcome",
                "channels": ["email"],
                "segment": {"all": [{"attribute": "plan", "op": "eq", "value": "pro"}]},
                "data": {"cta_url": "https://example.com/start"},
            }
        )
        with session_scope(engine) as session:
            campaign = create_campaign(session, request, settings=settings, api_key_id=None)
            campaign_id = campaign.id
        tracemalloc.start()
        started = time.monotonic()
        fan_out(engine, int(campaign_id or 0), settings)
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        with Session(engine) as session:
            queued = session.exec(select(func.count()).select_from(Message)).one()
        engine.dispose()
        print(
            f"postgresql {queued} messages queued in {elapsed:.1f}s ({queued / elapsed:.0f}/s), "
            f"peak traced memory {peak / 2**20:.1f} MB"
        )


def wait_for(check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError("the service did not start")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", choices=["workers", "api", "fanout"], action="append")
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker process counts to run")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--recipients", type=int, default=100_000)
    args = parser.parse_args()
    sections = args.only or ["workers", "api", "fanout"]
    print(f"ccm delivery benchmark on {os.cpu_count()} cores")
    if "workers" in sections:
        bench_workers(args)
    if "api" in sections:
        bench_api(args)
    if "fanout" in sections:
        bench_fanout(args)


if __name__ == "__main__":
    main()
