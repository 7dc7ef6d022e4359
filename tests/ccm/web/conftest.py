"""The real service on a loopback port (uvicorn in a thread, in-process worker), shared by a test module.

Seeded with the starter templates, the demo customers and one API key per role; `signed_in(role)` gives an
httpx client holding a UI session, and the Playwright fixtures drive the system Chromium headless.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from ccm.access.models import Role
from ccm.access.service import create_api_key
from ccm.app import create_app
from ccm.customers.demo import seed_demo_customers
from ccm.database import make_engine, session_scope
from ccm.migrate import upgrade
from ccm.registry.starter import load_starter_templates
from ccm.settings import PROJECT_ROOT, Settings

CHROMIUM = "/usr/lib/chromium/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
CSRF_FIELD = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


@dataclass(frozen=True)
class LiveService:
    base_url: str
    settings: Settings
    keys: dict[Role, str]

    def api(self, role: Role = Role.ADMIN) -> httpx.Client:
        """An API client authenticating with the role's key."""
        return httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {self.keys[role]}"})


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = CSRF_FIELD.search(html)
    assert match, "page has no CSRF field"
    return match.group(1)


def sign_in(client: httpx.Client, key: str, next_path: str = "") -> httpx.Response:
    """Post the login form as a browser would: fetch it first for its nonce cookie and token."""
    form = client.get("/ui/login")
    data = {"api_key": key, "next": next_path, "csrf_token": csrf_of(form.text)}
    return client.post("/ui/login", data=data)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _seed(settings: Settings) -> dict[Role, str]:
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    keys: dict[Role, str] = {}
    with session_scope(engine) as session:
        load_starter_templates(session, settings.templates_dir)
        seed_demo_customers(session)
        for role in Role:
            keys[role] = create_api_key(session, role=role, name=f"web {role.value}")[1]
    engine.dispose()
    return keys


def _wait_healthy(base_url: str, thread: threading.Thread) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and thread.is_alive():
        try:
            if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError("the service did not become healthy")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    data_dir: Path = tmp_path_factory.mktemp("ccm-web")
    port = _free_port()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        env="test",
        data_dir=data_dir,
        port=port,
        base_url=f"http://127.0.0.1:{port}",
        secret_key="web-ui-test-secret-" + "x" * 40,
        templates_dir=PROJECT_ROOT / "templates",
        worker_poll_interval=0.1,
    )
    keys = _seed(settings)
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="ccm-web-test-server", daemon=True)
    thread.start()
    try:
        _wait_healthy(settings.base_url, thread)
        yield LiveService(settings.base_url, settings, keys)
    finally:
        server.should_exit = True
        thread.join(timeout=15)


SignedIn = Callable[[Role], httpx.Client]


@pytest.fixture
def signed_in(live: LiveService) -> Iterator[SignedIn]:
    """httpx clients holding a UI session for a role (redirects are not followed, to check them)."""
    clients: list[httpx.Client] = []

    def make(role: Role) -> httpx.Client:
        client = httpx.Client(base_url=live.base_url)
        clients.append(client)
        response = sign_in(client, live.keys[role])
        assert response.status_code == 303, response.text
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
    yield browser
    browser.close()


@pytest.fixture
def context(browser: Browser, live: LiveService) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=live.base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()
