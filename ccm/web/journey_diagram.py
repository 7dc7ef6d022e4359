"""A journey's steps laid out as a flow diagram, in Python, for the page to draw as inline SVG.

Layered, as Sugiyama-style drawings are: each step sits one layer below the lowest step leading to it
(the definition has no cycle, `checks.py`), an edge spanning several layers passes through a slot of its
own in each layer between (so it never runs through a box), and each layer is ordered by where its
predecessors are, then by list order. No script and no other host draws it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from ccm.journeys.definition import JourneyContent, Step
from ccm.web.journey_summary import goal_summary, step_summary, trigger_summary

BOX_WIDTH = 260
BOX_HEIGHT = 96
TERMINAL_HEIGHT = 52
"""The start, goal and end nodes: two lines, no counts."""
PASSAGE_WIDTH = 28
"""The slot a long edge takes in a layer it crosses."""
GAP_X = 36
GAP_Y = 64
"""Room between layers for the edges' labels."""
MARGIN = 16
START, END, GOAL = "_start", "_end", "_goal"
"""Ids of the nodes that are not steps; a step's id starts with a letter or digit, so none collides."""


@dataclass(frozen=True)
class Way:
    """An edge out of a step: where to, its label, and its key in the step's `ways` counts."""

    target: str
    label: str | None = None
    key: str | None = None


@dataclass
class Box:
    id: str
    kind: str
    """A step kind, or `start`, `goal`, `end`."""
    summary: str
    layer: int
    order: float = 0.0
    x: float = 0.0
    y: float = 0.0
    width: float = BOX_WIDTH
    height: float = BOX_HEIGHT

    @property
    def is_step(self) -> bool:
        return self.kind not in ("start", "goal", "end")


@dataclass
class Edge:
    source: str
    target: str
    label: str | None
    key: str | None
    """The source step's `ways` key (`then`, `else`, a variant's name) when it is a branch or split."""
    points: list[tuple[float, float]] = field(default_factory=list)

    @property
    def path(self) -> str:
        """An SVG path through the points, curving between layers."""
        (x, y), *rest = self.points
        parts = [f"M{x:.1f},{y:.1f}"]
        for nx, ny in rest:
            if nx == x:
                parts.append(f"L{nx:.1f},{ny:.1f}")
            else:
                middle = (y + ny) / 2
                parts.append(f"C{x:.1f},{middle:.1f} {nx:.1f},{middle:.1f} {nx:.1f},{ny:.1f}")
            x, y = nx, ny
        return " ".join(parts)

    @property
    def label_at(self) -> tuple[float, float]:
        """Three quarters down the edge's first stretch, where its label goes: the ways out of one step leave
        from one point and part as they go, so labels further along (with their share of runs) stay apart."""
        (x0, y0), (x1, y1) = self.points[0], self.points[1]
        return x0 + (x1 - x0) * LABEL_ALONG, y0 + (y1 - y0) * LABEL_ALONG


LABEL_ALONG = 0.75


@dataclass(frozen=True)
class Diagram:
    boxes: list[Box]
    edges: list[Edge]
    width: float
    height: float


def ways_out(step: Step, following: str) -> list[Way]:
    """The edges out of a step: a branch's then/else, a split's variants, none from an exit, else its
    `next` or `following` (the next step in the list, or the end)."""
    if step.branch is not None:
        return [Way(step.branch.then, "then", "then"), Way(step.branch.otherwise, "else", "else")]
    if step.split is not None:
        return [Way(v.next, f"{v.name} {v.percent}%", v.name) for v in step.split.variants]
    if step.exit is not None:
        return []
    return [Way(step.next or following)]


def graph(content: JourneyContent) -> tuple[list[Box], list[Edge]]:
    """The nodes (start, goal, each step, end when a run can go past the last step) and their edges."""
    steps = content.steps
    boxes = [Box(START, "start", trigger_summary(content.trigger), 0, height=TERMINAL_HEIGHT)]
    if content.goal is not None:
        boxes.append(Box(GOAL, "goal", goal_summary(content.goal), 0, height=TERMINAL_HEIGHT))
    boxes += [Box(step.id, step.kind, step_summary(step), 0) for step in steps]
    known = {step.id for step in steps}
    edges = [Edge(START, steps[0].id, None, None)]
    for index, step in enumerate(steps):
        following = steps[index + 1].id if index + 1 < len(steps) else END
        for way in ways_out(step, following):
            if way.target in known or way.target == END:
                edges.append(Edge(step.id, way.target, way.label, way.key))
    if any(edge.target == END for edge in edges):
        boxes.append(Box(END, "end", "went past the last step", 0, height=TERMINAL_HEIGHT))
    return boxes, edges


def assign_layers(boxes: list[Box], edges: list[Edge]) -> None:
    """Longest path from the start: each node one layer below its lowest predecessor."""
    by_id = {box.id: box for box in boxes}
    incoming: dict[str, int] = defaultdict(int)
    outgoing: dict[str, list[str]] = defaultdict(list)
    for edge in edges:
        incoming[edge.target] += 1
        outgoing[edge.source].append(edge.target)
    ready = [box.id for box in boxes if incoming[box.id] == 0]
    for box in boxes:
        box.layer = 0 if box.kind in ("start", "goal") else 1
    while ready:
        node = ready.pop(0)
        for target in outgoing[node]:
            by_id[target].layer = max(by_id[target].layer, by_id[node].layer + 1)
            incoming[target] -= 1
            if incoming[target] == 0:
                ready.append(target)


def order_layers(layers: list[list[Box]], predecessors: dict[str, list[Box]], rank: dict[str, int]) -> None:
    """Each layer by the mean position of its nodes' predecessors, then by list order."""
    for layer in layers:
        for box in layer:
            above = [p.x + p.width / 2 for p in predecessors[box.id]]
            box.order = sum(above) / len(above) if above else 0.0
        layer.sort(key=lambda box: (box.order, rank[box.id]))


def place(layers: list[list[Box]], predecessors: dict[str, list[Box]], rank: dict[str, int]) -> float:
    """x and y of every box, each layer centred on the widest; returns the drawing's width."""
    widths = [sum(box.width for box in layer) + GAP_X * (len(layer) - 1) for layer in layers]
    total = max(widths)
    top = MARGIN
    for layer, width in zip(layers, widths, strict=True):
        order_layers([layer], predecessors, rank)
        x = MARGIN + (total - width) / 2
        for box in layer:
            box.x, box.y = x, top + (BOX_HEIGHT - box.height) / 2
            x += box.width + GAP_X
        top += BOX_HEIGHT + GAP_Y
    return total + 2 * MARGIN


def layout(content: JourneyContent) -> Diagram:
    """Where every box and edge of the journey's diagram goes."""
    boxes, edges = graph(content)
    assign_layers(boxes, edges)
    rank = {box.id: index for index, box in enumerate(boxes)}
    by_id = {box.id: box for box in boxes}
    layers: list[list[Box]] = [[] for _ in range(max(box.layer for box in boxes) + 1)]
    for box in boxes:
        layers[box.layer].append(box)
    predecessors: dict[str, list[Box]] = defaultdict(list)
    passages: dict[int, list[Box]] = {}
    for number, edge in enumerate(edges):
        source, target = by_id[edge.source], by_id[edge.target]
        previous = source
        for layer in range(source.layer + 1, target.layer):
            passage = Box(f"_passage{number}_{layer}", "passage", "", layer, width=PASSAGE_WIDTH)
            rank[passage.id] = rank[target.id]
            predecessors[passage.id].append(previous)
            layers[layer].append(passage)
            passages.setdefault(number, []).append(passage)
            previous = passage
        predecessors[target.id].append(previous)
    width = place(layers, predecessors, rank)
    for number, edge in enumerate(edges):
        source, target = by_id[edge.source], by_id[edge.target]
        points = [(source.x + source.width / 2, source.y + source.height)]
        for passage in passages.get(number, []):
            centre = passage.x + passage.width / 2
            points += [(centre, passage.y), (centre, passage.y + passage.height)]
        edge.points = [*points, (target.x + target.width / 2, target.y)]
    height = MARGIN + len(layers) * (BOX_HEIGHT + GAP_Y) - GAP_Y + MARGIN
    return Diagram(boxes, edges, width, height)
