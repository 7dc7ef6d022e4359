"""One line that says what a journey's step, trigger or goal does, for its box in the diagram and its row
in the step table (`ccm.journeys.definition` holds the shapes)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from ccm.journeys.definition import (
    BranchStep,
    Comparison,
    Condition,
    Goal,
    SendStep,
    SplitStep,
    Step,
    Trigger,
    UpdateStep,
    WaitStep,
    WebhookStep,
)


def _send(send: SendStep) -> str:
    how = " → ".join(send.fallback) if send.fallback else str(send.channel)
    return f"{send.template} by {how}"


def _wait(wait: WaitStep) -> str:
    if wait.duration is not None:
        return f"for {wait.duration}"
    if wait.until is not None:
        return f"until {wait.until} local time"
    return f"for event {wait.event}, at most {wait.timeout}"


def _comparison(subject: str, test: Comparison) -> str:
    value: Any = getattr(test, test.test)
    return f"{subject} {test.test.replace('_', ' ')} {as_json(value)}"


def as_json(value: Any) -> str:
    """A value as the author wrote it in the definition (`true`, `"gold"`, `3`), not Python's `True`."""
    return json.dumps(value, ensure_ascii=False)


def condition_text(condition: Condition) -> str:
    """`opened mail`, `attribute vip equals true`, `nps survey 9-10`…"""
    kind, value = condition.kind, condition.value
    if condition.attribute is not None:
        return _comparison(f"attribute {condition.attribute.name}", condition.attribute)
    if condition.event_property is not None:
        return _comparison(f"property {condition.event_property.path}", condition.event_property)
    if condition.nps is not None:
        return f"NPS of {condition.nps.step} {condition.nps.min}-{condition.nps.max}"
    return f"{kind.replace('_', ' ')} {value}"


def _branch(branch: BranchStep) -> str:
    return f"if {condition_text(branch.condition)}"


def _split(split: SplitStep) -> str:
    shares = ", ".join(f"{v.name} {v.percent}%" for v in split.variants)
    return shares + (f"; winner by {split.winner.by} after {split.winner.after}" if split.winner else "")


def _update(update: UpdateStep) -> str:
    return f"set {update.attribute} = {as_json(update.value)}"


def _webhook(webhook: WebhookStep) -> str:
    return f"post to endpoint #{webhook.endpoint}"


SUMMARIES: dict[str, Callable[[Any], str]] = {
    "send": _send,
    "wait": _wait,
    "branch": _branch,
    "split": _split,
    "update": _update,
    "webhook": _webhook,
    "exit": lambda _body: "leave the journey",
}
"""Per step kind (`definition.STEP_KEYS`): what its box says under the kind."""


def _fields(body: BaseModel) -> str:
    """A kind without a summary of its own: its settings as they are."""
    return ", ".join(f"{name} {value}" for name, value in body.model_dump(exclude_none=True).items())


def step_summary(step: Step) -> str:
    return SUMMARIES.get(step.kind, _fields)(step.body)


def trigger_summary(trigger: Trigger) -> str:
    if trigger.event is not None:
        return f"event {trigger.event}"
    if trigger.segment is not None:
        existing = " (and those already in)" if trigger.include_existing else ""
        return f"entering segment {trigger.segment}{existing}"
    offset = f" {trigger.offset}" if trigger.offset else ""
    return f"date {trigger.date_attribute}{offset} at {trigger.at or '00:00'}"


def goal_summary(goal: Goal) -> str:
    return f"event {goal.event}" + (f", same {goal.match}" if goal.match else "")
