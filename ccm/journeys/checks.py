"""A definition checked whole, beyond each part's shape: step ids named by branches and splits exist, the
steps form no cycle, split percentages total 100, a winner has a send step per variant. Each failure is a
422 naming the failing part as `steps[i]…`."""

from __future__ import annotations

from ccm.errors import Unprocessable
from ccm.journeys.definition import STEP_CONDITIONS, JourneyContent, Step


def successors(steps: list[Step], index: int) -> list[str]:
    """The ids a step may go to next: a branch's two, a split's variants', none after an exit, else its
    `next` or the following step (none after the last)."""
    step = steps[index]
    if step.branch is not None:
        return [step.branch.then, step.branch.otherwise]
    if step.split is not None:
        return [variant.next for variant in step.split.variants]
    if step.exit is not None:
        return []
    if step.next is not None:
        return [step.next]
    return [steps[index + 1].id] if index + 1 < len(steps) else []


def check_definition(content: JourneyContent) -> None:
    """422 for a definition whose parts do not fit together, naming the first bad one."""
    positions: dict[str, int] = {}
    for index, step in enumerate(content.steps):
        if step.id in positions:
            raise Unprocessable(
                f"steps[{index}].id: '{step.id}' is used twice",
                field=f"steps[{index}].id",
                code="duplicate_step",
            )
        positions[step.id] = index
    for index, step in enumerate(content.steps):
        _check_references(step, index, positions)
        _check_winner(content.steps, index, positions)
    _check_acyclic(content.steps, positions)


def _check_winner(steps: list[Step], index: int, positions: dict[str, int]) -> None:
    """A split that picks a winner measures each variant by its own send step's messages."""
    split = steps[index].split
    if split is None or split.winner is None:
        return
    targets = [variant.next for variant in split.variants]
    if len(set(targets)) != len(targets) or any(steps[positions[t]].send is None for t in targets):
        field = f"steps[{index}].split.winner"
        raise Unprocessable(
            f"{field}: choosing a winner needs each variant's next step to be a send step of its own",
            field=field,
            code="winner_needs_sends",
        )


def _check_references(step: Step, index: int, positions: dict[str, int]) -> None:
    named: list[tuple[str, str]] = [("next", step.next)] if step.next else []
    if step.branch is not None:
        named += [("branch.then", step.branch.then), ("branch.else", step.branch.otherwise)]
        condition = step.branch.condition
        if condition.kind in STEP_CONDITIONS:
            named.append((f"branch.if.{condition.kind}", str(condition.value)))
        if condition.nps is not None:
            named.append(("branch.if.nps.step", condition.nps.step))
    if step.split is not None:
        named += [(f"split.variants[{i}].next", v.next) for i, v in enumerate(step.split.variants)]
        if sum(v.percent for v in step.split.variants) != 100:
            raise Unprocessable(
                f"steps[{index}].split.variants: the percentages must total 100",
                field=f"steps[{index}].split.variants",
                code="split_not_100",
            )
    for where, target in named:
        if target not in positions:
            field = f"steps[{index}].{where}"
            raise Unprocessable(f"{field}: no step has the id '{target}'", field=field, code="unknown_step")


def _check_acyclic(steps: list[Step], positions: dict[str, int]) -> None:
    """Depth-first from every step; a step met again on the current path closes a cycle (422)."""
    done: set[int] = set()

    def visit(index: int, path: list[int]) -> None:
        if index in path:
            loop = " → ".join(steps[i].id for i in [*path[path.index(index) :], index])
            raise Unprocessable(
                f"steps[{index}]: the steps form a cycle ({loop})",
                field=f"steps[{index}]",
                code="journey_cycle",
            )
        if index in done:
            return
        for target in successors(steps, index):
            visit(positions[target], [*path, index])
        done.add(index)

    for start in range(len(steps)):
        visit(start, [])
