"""Rates per CPU-second ("per core") of two actions measured side by side, counting the CPU time of this
process and of every process it started: a reference that hands its work to helper processes (a browser)
pays for them, and a loaded shared machine, which stretches wall-clock times, stretches neither side's."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def paired_cpu_rates(
    ours: Callable[[], object], reference: Callable[[], object], seconds: float, rounds: int = 3
) -> tuple[float, float]:
    """Calls per CPU-second of each action over about `seconds` of wall clock in all, in alternating turns."""
    ours()
    reference()
    per_turn = seconds / (2 * rounds)
    calls, cpu = [0, 0], [0.0, 0.0]
    for _ in range(rounds):
        for side, action in enumerate((ours, reference)):
            before = tree_cpu_seconds()
            calls[side] += _run_for(action, per_turn)
            cpu[side] += tree_cpu_seconds() - before
    return calls[0] / cpu[0], calls[1] / cpu[1]


def _run_for(action: Callable[[], object], seconds: float) -> int:
    count, deadline = 0, time.perf_counter() + seconds
    while True:
        action()
        count += 1
        if time.perf_counter() >= deadline:
            return count


def tree_cpu_seconds(root: int | None = None) -> float:
    """User + system CPU seconds of `root` (this process) and all its live descendants, from /proc."""
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        used[pid] = (int(fields[11]) + int(fields[12])) / _TICK
    wanted, frontier = set(), [root or os.getpid()]
    while frontier:
        pid = frontier.pop()
        wanted.add(pid)
        frontier += [child for child, parent in parents.items() if parent == pid and child not in wanted]
    return sum(used.get(pid, 0.0) for pid in wanted)
