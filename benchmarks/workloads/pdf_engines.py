"""Workload 4, invoice PDFs/s: three lines, each ours beside a reference measured in the same run.

(a) ccm's Typst engine (`ccm.channels.pdf.render` of the starter `invoice-typst`, PDF/A-3b, the contract's
    formatted fields) against warm headless Chromium printing the same invoice's HTML to PDF with one page
    reused (Playwright driving Debian's Chromium). Per core: PDFs per CPU-second, counting this process and
    every process it started (Chromium's browser, renderer and GPU processes, Playwright's driver), so
    Chromium's work in other processes is not free. Goal: ≥ 8x.
(b) ccm's WeasyPrint path (the starter `invoice`'s PDF part, PDF/A-3b, the asset fetcher) against plain
    WeasyPrint writing the same HTML and CSS to the same PDF/A, as a caller writes it:
    `HTML(string=...).write_pdf(stylesheets=[CSS(string=...)], pdf_variant=...)`. Goal: ≥ 1.0x.
(c) ccm's Typst engine in 2 processes against 1 process (the sum of each process's rate). Goal: ≥ 1.8x.

Every call renders a different invoice number (Typst caches identical inputs; the same document twice
would measure its cache).

    .venv/bin/python -m benchmarks.workloads.pdf_engines [--quick]
"""

from __future__ import annotations

import base64
import copy
import itertools
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import weasyprint

from benchmarks.workloads.cpu import paired_cpu_rates
from benchmarks.workloads.result import Result
from benchmarks.workloads.runner import main
from ccm.channels import RenderOptions, Tracking
from ccm.channels.pdf import render as render_pdf_part
from ccm.registry.as_code.read import read_template
from ccm.registry.contract_marks import with_contract_marks
from renderers.environment import render_text

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
ASSETS = TEMPLATES / "_assets"
CHROMIUM = "/usr/lib/chromium/chromium"
CHROMIUM_FLAGS = [
    *("--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"),
    *("--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"),
]
CUSTOMER = {"external_id": "C-1001", "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}
VARIANT = "pdf/a-3b"
GOALS = {"typst": 8.0, "weasyprint": 1.0, "processes": 1.8}


class Invoices:
    """A starter template's PDF part, as a send renders it, and a fresh invoice number per call."""

    def __init__(self, key: str) -> None:
        request = read_template(TEMPLATES / key).request
        self.parts = with_contract_marks(dict(request.parts), request.data_schema or None)
        self.sample: dict[str, Any] = dict(request.sample_data)
        self.numbers = itertools.count(1)
        self.options = RenderOptions(locale="en", timezone="UTC", assets_dir=ASSETS, pdf_variant=VARIANT)

    def context(self) -> dict[str, Any]:
        data = copy.deepcopy(self.sample)
        data["invoice"]["number"] = f"INV-2024-{next(self.numbers):06d}"
        return {**data, "customer": CUSTOMER}

    def render(self) -> bytes:
        return bytes(render_pdf_part(self.parts, self.context(), self.options, Tracking()).data)

    def html(self) -> str:
        """The WeasyPrint invoice's HTML for this call's data, as ccm renders it before layout."""
        return render_text(self.parts["pdf"]["html"], self.context(), autoescape=True)


def measure(quick: bool) -> list[Result]:
    seconds = 3.0 if quick else 20.0
    return [typst_vs_chromium(seconds), weasyprint_vs_plain(seconds), processes(seconds / 2)]


def typst_vs_chromium(seconds: float) -> Result:
    typst, html = Invoices("invoice-typst"), Invoices("invoice")
    css = (TEMPLATES / "invoice" / "pdf.css").read_text()
    logo = "data:image/svg+xml;base64," + base64.b64encode((ASSETS / "logo.svg").read_bytes()).decode()

    with chromium_page() as page:

        def chromium() -> bytes:
            document = html.html().replace('src="logo.svg"', f'src="{logo}"')
            page.set_content(document.replace("</head>", f"<style>{css}</style></head>"))
            return bytes(page.pdf(format="A4", print_background=True))

        for _ in range(
            3
        ):  # the browser's start-up work ends before any window opens (it would count as ours)
            chromium()
        time.sleep(1.0)
        ours, reference = paired_cpu_rates(typst.render, chromium, seconds)
    notes = "starter invoice (Chromium: a plain PDF); PDFs per CPU-second of this process and its children"
    return Result(
        "4a pdf typst", ours, reference, "PDFs/s/core", "warm headless Chromium", GOALS["typst"], notes
    )


@contextmanager
def chromium_page() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def weasyprint_vs_plain(seconds: float) -> Result:
    ours = Invoices("invoice")
    plain = Invoices("invoice")
    css = (TEMPLATES / "invoice" / "pdf.css").read_text()

    def weasy() -> bytes:
        document = weasyprint.HTML(string=plain.html(), base_url=f"{ASSETS}/")
        sheet = weasyprint.CSS(string=css, base_url=f"{ASSETS}/")
        return bytes(document.write_pdf(stylesheets=[sheet], pdf_variant=VARIANT))

    mine, reference = paired_cpu_rates(ours.render, weasy, seconds, rounds=2)
    notes = "starter invoice, PDF/A-3b; plain: the same HTML and CSS, WeasyPrint's default fetcher"
    return Result(
        "4b pdf weasyprint", mine, reference, "PDFs/s/core", "plain WeasyPrint", GOALS["weasyprint"], notes
    )


def processes(seconds: float) -> Result:
    """One pool of two warmed processes: first one of them renders alone, then both at once."""
    context = multiprocessing.get_context("forkserver")
    with context.Pool(2, initializer=_warm) as pool:
        one = pool.apply(_typst_rate, (time.time(), seconds))
        start_at = time.time() + 0.5  # both processes start their window together
        two = sum(pool.starmap(_typst_rate, [(start_at, seconds)] * 2, chunksize=1))
    load = os.getloadavg()[0]  # other work on the machine takes the second core from the second process
    notes = f"ccm Typst invoices, PDF/A-3b; {multiprocessing.cpu_count()} cores, load average {load:.1f}"
    return Result("4c pdf 2 processes", two, one, "PDFs/s", "1 process", GOALS["processes"], notes)


_invoices: Invoices | None = None


def _warm() -> None:
    """A pool process's start: the engine loaded and three invoices rendered before any window opens."""
    global _invoices
    _invoices = Invoices("invoice-typst")
    for _ in range(3):
        _invoices.render()


def _typst_rate(start_at: float, seconds: float) -> float:
    """Run in a pool process: wait for the shared start, then render for `seconds`."""
    assert _invoices is not None
    time.sleep(max(0.0, start_at - time.time()))
    return _calls_per_second(_invoices.render, seconds)


def _calls_per_second(action: Callable[[], object], seconds: float) -> float:
    calls, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        action()
        calls += 1
    return calls / (time.perf_counter() - started)


if __name__ == "__main__":
    main(measure)
