"""One line of the `make bench` table: ours, the reference measured in the same run, their ratio, the goal."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    """`ours` and `reference` are rates in `unit` (higher is better), so `ratio` = ours / reference."""

    workload: str
    ours: float
    reference: float
    unit: str
    reference_name: str
    goal: float | None = None
    notes: str = ""

    @property
    def ratio(self) -> float:
        return self.ours / self.reference if self.reference else float("nan")

    @property
    def meets_goal(self) -> bool | None:
        return None if self.goal is None else self.ratio >= self.goal
