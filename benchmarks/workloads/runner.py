"""Running one workload alone (`python -m benchmarks.workloads.dkim [--quick]`): its lines of the table."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from benchmarks.workloads.result import Result


def main(measure: Callable[[bool], list[Result]]) -> None:
    """Parse --quick, measure, print the workload's lines as `make bench` would."""
    from benchmarks.bench import table  # the harness's table, so a workload alone reads the same

    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="the scaled-down run of `make bench QUICK=1`")
    args = parser.parse_args()
    print(table(measure(args.quick)))
