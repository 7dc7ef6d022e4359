"""`make bench`'s harness (`benchmarks.bench`): one table line per result, a workload that fails or is not
built gets its line and the run goes on, and the exit code is 0. Fake workloads: no timing is asserted."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from benchmarks import bench
from benchmarks.workloads.result import Result

FAST = Result("1 fast", ours=300.0, reference=100.0, unit="emails/s", reference_name="naive", goal=2.0)
SLOW = Result(
    "2 slow", ours=50.0, reference=100.0, unit="req/s", reference_name="bare", goal=0.7, notes="why"
)
NO_GOAL = Result("3 plain", ours=1.0, reference=4.0, unit="rows/s", reference_name="copy")


def fake_module(name: str, measure: object) -> str:
    module = types.ModuleType(name)
    module.measure = measure  # type: ignore[attr-defined]
    sys.modules[name] = module
    return name


@pytest.fixture
def workloads(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(quick: bool) -> list[Result]:
        raise RuntimeError("the sink refused\nsecond line")

    monkeypatch.setattr(
        bench,
        "WORKLOADS",
        (
            ("fast", fake_module("tests_fake_fast", lambda quick: [FAST, NO_GOAL])),
            ("missing", "benchmarks.workloads.no_such_workload"),
            ("broken", fake_module("tests_fake_broken", broken)),
            ("slow", fake_module("tests_fake_slow", lambda quick: [SLOW])),
        ),
    )


@pytest.mark.usefixtures("workloads")
def test_every_workload_gets_its_line_in_order_and_the_run_goes_on(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert bench.main(["--quick"]) == 0

    lines = capsys.readouterr().out.splitlines()
    names = [line.split()[0] for line in lines[1:] if line and not line.startswith(" ")]
    assert names[:5] == ["1", "3", "missing", "broken", "2"]
    fast = next(line for line in lines if line.startswith("1 fast"))
    assert "300 emails/s" in fast
    assert "naive 100" in fast
    assert "ratio  3" in fast
    assert "≥ 2" in fast
    assert fast.endswith("✓")
    slow = next(line for line in lines if line.startswith("2 slow"))
    assert "ratio  0.5" in slow
    assert slow.endswith("✗")
    plain = next(line for line in lines if line.startswith("3 plain"))
    assert "ratio  0.25" in plain
    assert not plain.endswith(("✓", "✗"))
    assert any(line.startswith("missing") and "not built" in line for line in lines)
    broken = next(line for line in lines if line.startswith("broken"))
    assert "error: RuntimeError: the sink refused" in broken
    assert "second line" not in broken
    assert "    why" in lines  # notes follow their line


@pytest.mark.usefixtures("workloads")
def test_only_runs_the_named_workloads(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--only", "slow"]) == 0

    out = capsys.readouterr().out
    assert "2 slow" in out
    assert "1 fast" not in out
    assert "missing" not in out


def test_a_workload_whose_own_import_fails_is_reported_broken_not_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "tests_fake_needs_dep.py").write_text("import no_such_dependency_of_a_workload\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(bench, "WORKLOADS", (("needs_dep", "tests_fake_needs_dep"),))

    assert bench.main([]) == 0

    out = capsys.readouterr().out
    assert "error: ModuleNotFoundError" in out
    assert "not built" not in out


def test_the_issue_s_eight_workloads_in_its_order() -> None:
    assert [name for name, _ in bench.WORKLOADS] == [
        "render",
        "end_to_end",
        "dkim",
        "pdf_engines",
        "batch",
        "api",
        "clicks",
        "import",
    ]
