"""The journey diagram's layout: every step placed once, an edge for each way out (the usual successor,
`next`, a branch's then/else, a split's variants), edges pointing down and never through a box, and no
two boxes overlapping."""

from __future__ import annotations

from itertools import combinations
from typing import Any

import pytest

from ccm.journeys.definition import JourneyContent
from ccm.web import journey_summary
from ccm.web.journey_diagram import END, GOAL, START, Box, Diagram, layout
from tests.ccm.journeys.conftest import INVOICE_CHASE


def content(steps: list[dict[str, Any]], **extra: Any) -> JourneyContent:
    return JourneyContent.model_validate(
        {"name": "Test", "trigger": {"event": "signup"}, "steps": steps, **extra}
    )


CHASE = JourneyContent.model_validate(
    {k: v for k, v in INVOICE_CHASE.items() if k not in ("key", "category")}
)
WIDE = content(
    [
        {"id": "ab", "split": {"variants": [
            {"name": "a", "percent": 40, "next": "mail-a"},
            {"name": "b", "percent": 40, "next": "mail-b"},
            {"name": "c", "percent": 20, "next": "later"},
        ]}},
        {"id": "mail-a", "send": {"template": "welcome", "channel": "email"}, "next": "check"},
        {"id": "mail-b", "send": {"template": "welcome", "fallback": ["email", "sms"]}, "next": "check"},
        {"id": "check", "branch": {"if": {"clicked": "mail-a"}, "then": "tag", "else": "later"}},
        {"id": "tag", "update": {"attribute": "engaged", "value": True}},
        {"id": "later", "wait": {"until": "09:00"}},
        {"id": "bye", "exit": {}},
    ]
)  # fmt: skip
LINEAR = content(
    [
        {"id": "hello", "send": {"template": "welcome", "channel": "email"}},
        {"id": "pause", "wait": {"event": "clicked_cta", "timeout": "P2D"}},
        {"id": "hook", "webhook": {"endpoint": 1}},
    ]
)


def boxes_of(diagram: Diagram) -> dict[str, Box]:
    return {box.id: box for box in diagram.boxes if box.kind != "passage"}


def edges_of(diagram: Diagram) -> set[tuple[str, str, str | None]]:
    return {(edge.source, edge.target, edge.label) for edge in diagram.edges}


def inside(point: tuple[float, float], box: Box) -> bool:
    x, y = point
    return box.x < x < box.x + box.width and box.y < y < box.y + box.height


@pytest.mark.parametrize("journey", [CHASE, WIDE, LINEAR], ids=["chase", "wide", "linear"])
def test_every_step_is_placed_once_inside_the_drawing_without_overlap(journey: JourneyContent) -> None:
    diagram = layout(journey)
    placed = [box.id for box in diagram.boxes if box.kind not in ("passage", "start", "goal", "end")]
    assert placed == [step.id for step in journey.steps]  # once each, in list order
    for box in diagram.boxes:
        assert box.x >= 0 and box.x + box.width <= diagram.width, box.id
        assert box.y >= 0 and box.y + box.height <= diagram.height, box.id
    for one, other in combinations(diagram.boxes, 2):
        apart_x = one.x + one.width <= other.x or other.x + other.width <= one.x
        apart_y = one.y + one.height <= other.y or other.y + other.height <= one.y
        assert apart_x or apart_y, (one.id, other.id)


@pytest.mark.parametrize("journey", [CHASE, WIDE, LINEAR], ids=["chase", "wide", "linear"])
def test_edges_go_down_from_box_to_box_and_never_through_one(journey: JourneyContent) -> None:
    diagram = layout(journey)
    boxes = boxes_of(diagram)
    for edge in diagram.edges:
        source, target = boxes[edge.source], boxes[edge.target]
        assert edge.points[0] == (source.x + source.width / 2, source.y + source.height)
        assert edge.points[-1] == (target.x + target.width / 2, target.y)
        assert target.y > source.y, (edge.source, edge.target)
        for point in edge.points[1:-1]:
            assert not any(inside(point, box) for box in boxes.values()), (edge.source, edge.target, point)
        assert edge.path.startswith("M") and edge.path.count(" ") >= 1


def test_the_chase_has_its_branch_ways_and_a_goal_but_no_end() -> None:
    diagram = layout(CHASE)
    assert edges_of(diagram) == {
        (START, "mail", None),
        ("mail", "wait", None),
        ("wait", "check", None),
        ("check", "done", "then"),
        ("check", "sms", "else"),
        ("sms", "done", None),
    }
    boxes = boxes_of(diagram)
    assert END not in boxes  # every path ends at the exit step
    assert boxes[GOAL].summary == "event invoice_paid, same invoice.number"
    assert boxes["check"].summary == "if opened mail"
    skip = next(edge for edge in diagram.edges if edge.target == "done" and edge.source == "check")
    assert len(skip.points) > 2  # it spans a layer, through a passage beside `sms`
    assert [e.key for e in diagram.edges if e.source == "check"] == ["then", "else"]


def test_split_variants_next_and_the_end_are_edges() -> None:
    diagram = layout(WIDE)
    edges = edges_of(diagram)
    assert {("ab", "mail-a", "a 40%"), ("ab", "mail-b", "b 40%"), ("ab", "later", "c 20%")} <= edges
    assert {("mail-a", "check", None), ("mail-b", "check", None)} <= edges  # `next`
    assert {("check", "tag", "then"), ("check", "later", "else"), ("tag", "later", None)} <= edges
    assert ("later", "bye", None) in edges and not any(source == "bye" for source, _, _ in edges)
    assert END not in boxes_of(diagram)
    boxes = boxes_of(diagram)
    assert boxes["mail-a"].y == boxes["mail-b"].y  # the same layer, side by side
    assert boxes["later"].y > boxes["tag"].y > boxes["check"].y
    assert boxes["mail-b"].summary == "welcome by email → sms"


def test_a_journey_going_past_its_last_step_ends_in_an_end_node() -> None:
    diagram = layout(LINEAR)
    assert ("hook", END, None) in edges_of(diagram)
    assert GOAL not in boxes_of(diagram)
    assert boxes_of(diagram)["pause"].summary == "for event clicked_cta, at most P2D"


def test_a_kind_without_a_summary_of_its_own_shows_its_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(journey_summary.SUMMARIES, "update")
    step = WIDE.steps[4]
    assert journey_summary.step_summary(step) == "attribute engaged, value True"


def test_values_are_shown_as_the_author_wrote_them_in_json() -> None:
    assert journey_summary.as_json(True) == "true"
    assert journey_summary.as_json("gold") == '"gold"'
    assert journey_summary.as_json(None) == "null"
