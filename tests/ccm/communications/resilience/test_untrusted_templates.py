"""A running `ccm serve` and `ccm worker` while authors' templates try to burn CPU, memory and pages.

Each burn hides behind the send-time check (the check's stand-in unsubscribe link takes the harmless
branch; the real one, or no link at all in a PDF, takes the burning one), so the messages are queued and the
worker meets them. Queued before a one-time code, none of them may delay it; each fails naming its limit;
`/health` and the rest of the API keep answering; no process grows past its memory limit.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ccm.communications.resilience.conftest import ROOT, wait_until, worker_env
from tests.ccm.conftest import BACKENDS
from tests.fixtures.smtp import free_port

pytestmark = [pytest.mark.slow, pytest.mark.serial]
"""Serial: it bounds a one-time code's latency and the health check's while templates burn; the suite's own
parallel processes on the same cores would be the delay it measures."""

CPU_SECONDS = 8
"""Parsing and styling the 5,000 pages takes ~3 s of CPU before the page limit can stop the layout."""
MEMORY_MB = 512
START_UP_MB = 300
"""A render process's limit counts on top of what it mapped at start (interpreter, WeasyPrint, fonts)."""
MAIN_PROCESS_MB = 400
"""`ccm serve` and `ccm worker` render nothing themselves: ~150 MB each; a bomb in them would be gigabytes."""


def trap(burn: str) -> str:
    """Harmless under the send-time check's stand-in link, burning with a real link or none."""
    check = "unsubscribe_url is defined and '/u/check' in unsubscribe_url"
    return f"{{% if {check} %}}fine{{% else %}}{burn}{{% endif %}}"


CPU_BURN = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
MEMORY_BURN = "{% set a = range(300) | map('string') | map('center', 4900000) | list %}{{ a | length }}"
PADDING = "{% set a = 'x'.ljust(1500000000) %}{{ a | length }}"
PAGES = "{% for i in range(5000) %}<p style='break-after: page'>{{ i }}</p>{% endfor %}"


def email(burn: str) -> dict[str, Any]:
    return {"email": {"subject": "Our offer", "html": f"<html><body><p>{trap(burn)}</p></body></html>"}}


BURNS: dict[str, tuple[dict[str, Any], str]] = {
    "burn-cpu": (email(CPU_BURN), "render_limit: cpu"),
    "burn-memory": (email(MEMORY_BURN), "render_limit: memory"),
    "burn-padding": (email(PADDING), "ljust() width 1500000000 is too large"),
    "burn-pages": ({"pdf": {"html": f"<html><body>{trap(PAGES)}</body></html>"}}, "render_limit: pdf_pages"),
}


def _proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in kB; empty when it has gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    values = {}
    for line in lines:
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0])
    return values


def _descendants(root: int) -> set[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


@dataclass
class Watch:
    """What the test saw while the burns ran: /health latencies, status codes, peak memory per process."""

    health_seconds: list[float] = field(default_factory=list)
    statuses: list[tuple[str, int]] = field(default_factory=list)
    peak_kb: dict[tuple[str, int], int] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def run(self, target: Callable[[], None]) -> None:
        def loop() -> None:
            while not self.stop.is_set():
                target()

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        self.threads.append(thread)

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(30)


@dataclass
class RunningService:
    base: str
    key: str
    serve: subprocess.Popen[bytes]
    worker: subprocess.Popen[bytes]
    logs: Path

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, headers=self.headers, timeout=30)


def _ccm(env: dict[str, str], *args: str) -> str:
    command = [sys.executable, "-m", "ccm.cli", *args]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(params=BACKENDS)
def running(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningService]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ccm.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    port = free_port()
    env = worker_env(
        url,
        tmp_path / "data",
        base_url=f"http://127.0.0.1:{port}",
        render_cpu_seconds=str(CPU_SECONDS),
        render_memory_mb=str(MEMORY_MB),
        log_level="INFO",
        approval_categories="[]",  # the one key publishes its marketing templates: no review here
    )
    _ccm(env, "migrate")
    key = _ccm(env, "seed-demo").strip().splitlines()[-1]
    logs = tmp_path / "logs"
    logs.mkdir()
    serve = subprocess.Popen(
        [sys.executable, "-m", "ccm.cli", "serve", "--no-worker", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=(logs / "serve.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "ccm.cli", "worker", "--concurrency", "2"],
        env=env,
        cwd=ROOT,
        stdout=(logs / "worker.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    service = RunningService(f"http://127.0.0.1:{port}", key, serve, worker, logs)
    try:
        up = wait_until(lambda: httpx.get(f"{service.base}/health", timeout=2).status_code == 200, 60, 0.2)
        assert up, (logs / "serve.log").read_text()
        yield service
    finally:
        for process in (serve, worker):
            process.terminate()
        for process in (serve, worker):
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


def _publish(client: httpx.Client, key: str, parts: dict[str, Any]) -> None:
    body = {"key": key, "name": key, "category": "marketing", "parts": parts}
    created = client.post("/v1/templates", json=body)
    assert created.status_code == 201, created.text
    published = client.post(f"/v1/templates/{key}/versions/1/publish")
    assert published.status_code == 200, published.text


def _send(client: httpx.Client, template: str, customer: str, data: dict[str, Any] | None = None) -> str:
    body = {"template": template, "customer_id": customer, "data": data or {}}
    response = client.post("/v1/messages", json=body)
    assert response.status_code == 202, response.text
    [message] = response.json()["messages"]
    return str(message["id"])


def _message(client: httpx.Client, message_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/messages/{message_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def _handed_off_within(client: httpx.Client, message_id: str, asked: datetime, seconds: float) -> float:
    """Seconds from the caller's request to the provider's acceptance (as the service recorded it): the
    API's own render check counts, not only the worker."""
    assert wait_until(lambda: _message(client, message_id)["status"] == "sent", seconds + 10, 0.05)
    sent = datetime.fromisoformat(_message(client, message_id)["sent_at"])
    return (sent.astimezone(UTC) - asked).total_seconds()


def _watch(service: RunningService, watch: Watch) -> None:
    """Poll /health, read a customer, preview a burning template, and sample memory, until told to stop."""
    health = httpx.Client(base_url=service.base, timeout=10)
    other = service.client()

    def poll_health() -> None:
        started = time.monotonic()
        response = health.get("/health")
        watch.health_seconds.append(time.monotonic() - started)
        watch.statuses.append(("GET /health", response.status_code))
        time.sleep(0.2)

    def read_and_preview() -> None:
        for key in BURNS:
            if watch.stop.is_set():
                return
            watch.statuses.append(("GET customer", other.get("/v1/customers/c-2").status_code))
            preview = other.post(f"/v1/templates/{key}/preview", json={})
            watch.statuses.append((f"preview {key}", preview.status_code))

    def sample_memory() -> None:
        for name, process in (("serve", service.serve), ("worker", service.worker)):
            for pid in {process.pid} | _descendants(process.pid):
                peak = _proc_status(pid).get("VmHWM", 0)
                label = (name if pid == process.pid else f"{name} child", pid)
                watch.peak_kb[label] = max(peak, watch.peak_kb.get(label, 0))
        time.sleep(0.1)

    for target in (poll_health, read_and_preview, sample_memory):
        watch.run(target)


PREVIEW_WAIT_SECONDS = 120
"""Long enough for the render's wall-clock backstop (`CCM_RENDER_TIMEOUT_SECONDS`, 60) on a loaded machine,
where ten CPU-seconds can take far longer than ten seconds."""


def _burning_preview(running: RunningService) -> int:
    """A marketer previews the CPU burn in `ccm serve`; its status (422 at a limit)."""
    with httpx.Client(base_url=running.base, headers=running.headers, timeout=PREVIEW_WAIT_SECONDS) as client:
        return client.post("/v1/templates/burn-cpu/preview", json={}).status_code


def test_burning_templates_queued_before_a_one_time_code_delay_nothing(running: RunningService) -> None:
    client = running.client()
    asked = datetime.now(UTC)
    warm_up = _send(client, "otp", "c-1", {"code": "111111", "expires_minutes": 10})
    assert _handed_off_within(client, warm_up, asked, 30) >= 0  # the worker is up and its render lanes warm
    for key, (parts, _) in BURNS.items():
        _publish(client, key, parts)

    watch = Watch()
    _watch(running, watch)
    burning = {key: [_send(client, key, customer) for customer in ("c-2", "c-3")] for key in BURNS}
    time.sleep(1.5)
    preview_statuses: list[int] = []
    preview = threading.Thread(target=lambda: preview_statuses.append(_burning_preview(running)))
    preview.start()  # a marketer's burning preview is running in `ccm serve` while the code is asked for
    time.sleep(0.5)
    asked = datetime.now(UTC)
    otp = _send(client, "otp", "c-1", {"code": "482913", "expires_minutes": 10})
    handed_off = _handed_off_within(client, otp, asked, 2)
    still_burning = [
        mid for mids in burning.values() for mid in mids if _message(client, mid)["status"] != "failed"
    ]

    everything_failed = wait_until(
        lambda: all(_message(client, mid)["status"] == "failed" for mids in burning.values() for mid in mids),
        180,
    )
    watch.finish()
    preview.join(PREVIEW_WAIT_SECONDS)
    assert preview_statuses == [422], preview_statuses  # the marketer's burn stopped at its limit too
    failures = {mid: _message(client, mid)["last_error"] for mids in burning.values() for mid in mids}
    assert everything_failed, failures

    assert handed_off < 2, f"the one-time code took {handed_off:.2f} s"
    assert still_burning, "the burns were over before the one-time code was sent: the test proved nothing"
    for key, (_, reason) in BURNS.items():
        for mid in burning[key]:
            assert reason in (failures[mid] or ""), (key, failures[mid])
    assert watch.health_seconds and max(watch.health_seconds) < 1, max(watch.health_seconds)
    server_errors = [(what, status) for what, status in watch.statuses if status >= 500]
    assert server_errors == [], server_errors
    previews = {status for what, status in watch.statuses if what.startswith("preview")}
    assert previews <= {422}, previews  # each preview stops at a limit (or a sandbox bound), as a 422
    mains = {label: kb for label, kb in watch.peak_kb.items() if label[0] in ("serve", "worker")}
    assert set(label[0] for label in mains) == {"serve", "worker"}
    assert max(mains.values()) < MAIN_PROCESS_MB * 1024, mains
    children = {label: kb for label, kb in watch.peak_kb.items() if label not in mains}
    assert children, "no render process was seen"
    for (name, pid), kb in children.items():
        assert kb < (MEMORY_MB + START_UP_MB) * 1024, (name, pid, kb)
    assert running.serve.poll() is None and running.worker.poll() is None
