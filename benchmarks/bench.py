"""`make bench`: every workload, ours beside a reference measured in the same run, in one table.

    .venv/bin/python -m benchmarks.bench [--quick] [--only render dkim ...]

Each workload is a module of `benchmarks.workloads` with `measure(quick) -> list[Result]`. A workload that
fails, or whose module is not there, gets its line in the table with the reason, and the run goes on: the
table is a report, never a gate, so the exit code is 0.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import math
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from benchmarks.workloads.result import Result

WORKLOADS = (
    ("render", "benchmarks.workloads.render"),
    ("end_to_end", "benchmarks.workloads.end_to_end"),
    ("dkim", "benchmarks.workloads.dkim"),
    ("pdf_engines", "benchmarks.workloads.pdf_engines"),
    ("batch", "benchmarks.workloads.batch"),
    ("api", "benchmarks.workloads.api"),
    ("clicks", "benchmarks.workloads.clicks"),
    ("import", "benchmarks.workloads.import_customers"),
)
"""The issue's numbering, in order: (name for --only, module)."""

Measure = Callable[[bool], list[Result]]


@dataclass(frozen=True)
class Failure:
    """A workload that produced no figures, and why (one line)."""

    workload: str
    reason: str


Line = Result | Failure


def load(module_name: str) -> Measure | None:
    """The module's `measure`, or None when the module does not exist yet (other modules' import errors
    propagate, so a broken workload is reported as broken, not as missing)."""
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module_name + ".").startswith(exc.name + "."):
            return None
        raise
    measure: Measure = module.measure
    return measure


def run(workloads: Iterable[tuple[str, Callable[[], Measure | None]]], quick: bool) -> Iterable[Line]:
    """Each workload's lines as it finishes, so a long run shows progress; errors become `Failure`s."""
    for name, loader in workloads:
        try:
            measure = loader()
            if measure is None:
                yield Failure(name, "not built")
                continue
            results = measure(quick)
        except Exception as exc:  # a report: one workload's failure must not hide the others
            traceback.print_exc(file=sys.stderr)
            yield Failure(name, f"error: {type(exc).__name__}: {exc}".splitlines()[0][:160])
            continue
        if not results:
            yield Failure(name, "error: no results")
        yield from results


HEADER = ("workload", "ours", "reference", "", "ours/ref", "goal", "")


def row(line: Line) -> tuple[str, ...]:
    """One table row: workload, ours with its unit, the reference's name and value, `ratio`, goal, ✓/✗."""
    if isinstance(line, Failure):
        return (line.workload, line.reason, "", "", "", "", "")
    reference = f"{line.reference_name} {number(line.reference)}"
    goal = "" if line.goal is None else f"≥ {line.goal:g}"
    verdict = {None: "", True: "✓", False: "✗"}[line.meets_goal]
    return (
        line.workload,
        f"{number(line.ours)} {line.unit}",
        reference,
        "ratio",
        number(line.ratio),
        goal,
        verdict,
    )


def number(value: float) -> str:
    """Three significant figures, with thousands separators for big rates."""
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def table(lines: Sequence[Line]) -> str:
    """Columns aligned to their widest cell; notes follow their line, indented."""
    rows = [HEADER, *(row(line) for line in lines)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    out = []
    for cells, line in zip(rows, [None, *lines], strict=True):
        out.append("  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip())
        if isinstance(line, Result) and line.notes:
            out.append(f"    {line.notes}")
    return "\n".join(out)


def selected(only: Sequence[str] | None) -> list[tuple[str, Callable[[], Measure | None]]]:
    """The workloads to run, each with its loader (modules are imported only when their turn comes)."""
    return [(name, functools.partial(load, module)) for name, module in WORKLOADS if not only or name in only]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="the scaled-down run (under 3 minutes)")
    parser.add_argument("--only", nargs="+", choices=[name for name, _ in WORKLOADS], metavar="NAME")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    lines: list[Line] = []
    for line in run(selected(args.only), args.quick):
        lines.append(line)
        print(f"  … {row(line)[0]} done ({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
    print(table(lines))
    print(f"\n{'quick' if args.quick else 'full'} run, {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
