"""Rates of two actions measured side by side: alternating rounds, so a burst of other work on a shared
machine falls on both sides alike and the ratio stays meaningful."""

from __future__ import annotations

import time
from collections.abc import Callable


def paired_rates(
    ours: Callable[[], object], reference: Callable[[], object], seconds: float, rounds: int = 3
) -> tuple[float, float]:
    """Calls per second of each action over about `seconds` in all, after one warm-up call each."""
    ours()
    reference()
    per_turn = seconds / (2 * rounds)
    counts, spent = [0, 0], [0.0, 0.0]
    for _ in range(rounds):
        for side, action in enumerate((ours, reference)):
            calls, elapsed = _run_for(action, per_turn)
            counts[side] += calls
            spent[side] += elapsed
    return counts[0] / spent[0], counts[1] / spent[1]


def _run_for(action: Callable[[], object], seconds: float) -> tuple[int, float]:
    """How many calls fit in `seconds` (at least one), and the time they took."""
    calls, started = 0, time.perf_counter()
    deadline = started + seconds
    while True:
        action()
        calls += 1
        now = time.perf_counter()
        if now >= deadline:
            return calls, now - started
