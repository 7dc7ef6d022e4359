"""The render pool on its own: limits stop a render, name the limit, and leave the lane usable."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator

import pytest

from renderers.errors import RenderError, RenderLimitExceeded
from renderers.limits import OutputLimits
from renderers.pdf import PdfTemplate, render_pdf
from renderers.pool import RenderLimits, RenderPool, run_inline


def burn(seconds: float) -> str:
    deadline = time.process_time() + seconds
    while time.process_time() < deadline:
        pass
    return "done"


def grow(megabytes: int) -> int:
    return len(bytearray(megabytes * 1024 * 1024))


def sleep(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def pid() -> int:
    return os.getpid()


def fail() -> None:
    raise RenderError("the template said no", field="sms")


def pages(count: int) -> int:
    html = "".join(f"<p style='break-after: page'>{n}</p>" for n in range(count))
    return render_pdf(PdfTemplate(html), {}).pages


@pytest.fixture(scope="module")
def pool() -> Iterator[RenderPool]:
    limits = RenderLimits(cpu_seconds=1, timeout_seconds=3, memory_mb=200, output=OutputLimits(pdf_pages=20))
    pool = RenderPool(limits, preload=["renderers.pdf"])
    yield pool
    pool.close()


WORK = 60.0
"""What each over-limit render would take if nothing stopped it (CPU or wall seconds): far beyond the bound
the test waits, however busy the machine."""
UNBOUNDED = 300.0
"""A wall-clock limit no case reaches, so only the limit under test can stop its render (a busy machine gives
a CPU-bound render a fraction of a core: 1 CPU-second may take many wall seconds)."""


@pytest.mark.parametrize(
    ("function", "argument", "limit"),
    [(burn, WORK, "cpu"), (grow, 1024, "memory"), (sleep, WORK, "timeout"), (pages, 500, "pdf_pages")],
)
def test_a_render_over_a_limit_is_stopped_named_and_its_process_replaced(
    function: object, argument: float, limit: str
) -> None:
    limits = RenderLimits(
        cpu_seconds=1,
        timeout_seconds=3 if limit == "timeout" else UNBOUNDED,
        memory_mb=200,
        output=OutputLimits(pdf_pages=20),
    )
    pool = RenderPool(limits, preload=["renderers.pdf"])
    try:
        before = pool.run("bulk", pid)
        started = time.monotonic()
        with pytest.raises(RenderLimitExceeded) as stopped:
            pool.run("bulk", function, argument)  # type: ignore[arg-type]
        assert stopped.value.limit == limit
        assert time.monotonic() - started < WORK / 2  # stopped at the limit, not when the work would end
        after = pool.run("bulk", pid)
        assert pool.run("bulk", grow, 20) == 20 * 1024 * 1024  # the new process works
        if limit != "pdf_pages":  # an output limit is the template's fault, not the process's
            assert after != before
    finally:
        pool.close()


def test_a_page_bomb_stops_at_the_first_page_over_the_limit_not_after_layout() -> None:
    pool = RenderPool(RenderLimits(cpu_seconds=30, output=OutputLimits(pdf_pages=200)))
    try:
        pool.run("bulk", pid)
        started = time.monotonic()
        with pytest.raises(RenderLimitExceeded, match="more than 200 pages"):
            pool.run("bulk", pages, 5000)
        # laying out all 5,000 pages takes about a minute; parsing and styling them ~3 s on this machine
        assert time.monotonic() - started < 15
    finally:
        pool.close()


def test_a_template_error_keeps_its_process(pool: RenderPool) -> None:
    before = pool.run("codes", pid)
    with pytest.raises(RenderError, match="the template said no") as failed:
        pool.run("codes", fail)
    assert not isinstance(failed.value, RenderLimitExceeded)
    assert failed.value.field == "sms"
    assert pool.run("codes", pid) == before


def test_a_slow_render_in_one_lane_does_not_wait_for_another(pool: RenderPool) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as executor:
        slow = executor.submit(pool.run, "bulk", sleep, 1.5)
        time.sleep(0.2)
        started = time.monotonic()
        pool.run("codes", pid)
        assert time.monotonic() - started < 1
        slow.result()


def test_the_page_limit_inline_leaves_weasyprint_logging_as_it_was() -> None:
    progress = logging.getLogger("weasyprint.progress")
    level = progress.level
    with pytest.raises(RenderLimitExceeded) as stopped:
        run_inline(pages, 30, output=OutputLimits(pdf_pages=5))
    assert stopped.value.limit == "pdf_pages"
    assert run_inline(pages, 5, output=OutputLimits(pdf_pages=5)) == 5
    assert (progress.level, progress.filters) == (level, [])
