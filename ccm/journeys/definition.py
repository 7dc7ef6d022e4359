"""A journey's definition as JSON: its trigger, re-entry rule, goal and steps, each part's shape.

What needs the whole list (references between steps, cycles, split percentages) is `checks.py`'s; whether
templates, segments and endpoints exist is the service's, since it needs the database.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from ccm.campaigns.schemas import FrequencyCap, LocalTime, QuietHours
from ccm.channels.parts import ChannelKey, ChannelList
from ccm.journeys.durations import IsoDuration, parse_duration
from ccm.validation import JsonObject, Line, TemplateKey

StepId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")
]
EventName = Annotated[
    str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$")
]
PropertyPath = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$")
]
"""A dotted path into an event's properties, e.g. `invoice.number`."""
SegmentKey = Annotated[
    str, StringConstraints(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9_\-]*$")
]
AttributeName = Annotated[
    str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
]
Scalar = str | int | float | bool | None


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def exactly_one(model: BaseModel, names: tuple[str, ...], what: str) -> None:
    """ValueError unless exactly one of `names` is set on `model`: the JSON's one-key-picks-the-kind rule."""
    chosen = [name for name in names if getattr(model, name) is not None]
    if len(chosen) != 1:
        raise ValueError(
            f"{what} takes exactly one of {', '.join(names)} (got {', '.join(chosen) or 'none'})"
        )


class Reentry(StrEnum):
    ONCE = "once"
    """A customer goes through the journey once, ever."""
    ONCE_AT_A_TIME = "once_at_a_time"
    """Again only after their previous run ended."""
    EVERY_TIME = "every_time"
    """Every trigger starts a run of its own (one per invoice, say)."""


def _date_offset(text: str) -> str:
    """A signed calendar duration (`-P30D`, `P1M`): days, weeks, months or years, no time of day."""
    duration = parse_duration(text.removeprefix("-"))
    if duration.elapsed:
        raise ValueError("a date offset takes days, weeks, months or years only (e.g. -P30D)")
    return text


DateOffset = Annotated[str, Field(max_length=40, examples=["-P30D"]), AfterValidator(_date_offset)]


class Trigger(Strict):
    """What enrols a customer: an event posted for them (`POST /v1/events`); entering a saved segment
    (those in it at publish only with `include_existing`); or the day a date attribute plus `offset`
    reaches, at the local time `at`."""

    event: EventName | None = None
    segment: SegmentKey | None = None
    include_existing: bool | None = None
    date_attribute: AttributeName | None = None
    offset: DateOffset | None = None
    at: LocalTime | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Trigger:
        exactly_one(self, ("event", "segment", "date_attribute"), "trigger")
        if self.include_existing is not None and self.segment is None:
            raise ValueError("trigger: include_existing goes with segment")
        if (self.offset is not None or self.at is not None) and self.date_attribute is None:
            raise ValueError("trigger: offset and at go with date_attribute")
        return self


class Goal(Strict):
    """An event that ends a run early; with `match`, only the run whose trigger had the same value there."""

    event: EventName
    match: PropertyPath | None = None


class SendStep(Strict):
    """Queue a template's message on `channel`, or on the first of `fallback` the send rules allow."""

    template: TemplateKey
    channel: ChannelKey | None = None
    fallback: ChannelList | None = None

    @model_validator(mode="after")
    def _one_way(self) -> SendStep:
        exactly_one(self, ("channel", "fallback"), "send")
        return self

    @property
    def channels(self) -> list[str]:
        return list(self.fallback) if self.fallback else [str(self.channel)]


class WaitStep(Strict):
    """Wait for a duration, until a local time of day, or until an event (at most `timeout`)."""

    duration: IsoDuration | None = None
    until: LocalTime | None = None
    event: EventName | None = None
    timeout: IsoDuration | None = None

    @model_validator(mode="after")
    def _one_way(self) -> WaitStep:
        exactly_one(self, ("duration", "until", "event"), "wait")
        if (self.event is None) != (self.timeout is None):
            raise ValueError("wait: timeout goes with event, and an event wait needs one")
        return self


COMPARISONS = ("equals", "not_equals", "gt", "lt", "exists")


class Comparison(Strict):
    """A value test: `equals`, `not_equals`, `gt`, `lt` or `exists` (null is no test: absence is
    `"exists": false`)."""

    equals: Scalar | list[Any] | dict[str, Any] = None
    not_equals: Scalar = None
    gt: float | None = None
    lt: float | None = None
    exists: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_test(cls, data: Any) -> Any:
        if isinstance(data, dict):
            tests = [k for k in COMPARISONS if data.get(k) is not None]
            if len(tests) != 1:
                raise ValueError("a comparison takes exactly one of equals, not_equals, gt, lt, exists")
        return data

    @property
    def test(self) -> str:
        return next(name for name in COMPARISONS if getattr(self, name) is not None)


class AttributeTest(Comparison):
    name: AttributeName


class PropertyTest(Comparison):
    path: PropertyPath


class NpsTest(Strict):
    """The answer to the survey sent by `step`: a score between `min` and `max` (inclusive)."""

    step: StepId
    min: int = Field(default=0, ge=0, le=10)
    max: int = Field(default=10, ge=0, le=10)


class Condition(Strict):
    """One test, named by its key: engagement with an earlier send step, an event, an attribute, a
    property of the triggering event, or an NPS answer."""

    opened: StepId | None = None
    clicked: StepId | None = None
    delivered: StepId | None = None
    event_received: EventName | None = None
    attribute: AttributeTest | None = None
    event_property: PropertyTest | None = Field(default=None, alias="property")
    nps: NpsTest | None = None

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        exactly_one(self, tuple(CONDITION_KEYS.values()), "a branch condition")
        return self

    @property
    def kind(self) -> str:
        """The condition's key in the JSON (`opened`, `property`, ...)."""
        return next(key for key, name in CONDITION_KEYS.items() if getattr(self, name) is not None)

    @property
    def value(self) -> Any:
        return getattr(self, CONDITION_KEYS[self.kind])


CONDITION_KEYS = {
    "opened": "opened",
    "clicked": "clicked",
    "delivered": "delivered",
    "event_received": "event_received",
    "attribute": "attribute",
    "property": "event_property",
    "nps": "nps",
}
"""Each condition's key in the JSON and its field here (`property` is a Python builtin)."""
STEP_CONDITIONS = ("opened", "clicked", "delivered")
"""Conditions that name an earlier send step."""


class BranchStep(Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    condition: Condition = Field(alias="if")
    then: StepId
    otherwise: StepId = Field(alias="else")


class Variant(Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_\-]+$")]
    percent: int = Field(ge=0, le=100)
    next: StepId


class Winner(Strict):
    """Once `after` has passed since the version went live, the variant whose messages people opened (or
    clicked) most, by rate, is chosen once; every later run goes to it."""

    by: Literal["opened", "clicked"]
    after: IsoDuration


class SplitStep(Strict):
    """A/B: each run goes to one variant's `next` step, by percentage (they total 100); with `winner`,
    each variant's `next` is a send step of its own, and the best of them later takes every run."""

    variants: list[Variant] = Field(min_length=2, max_length=10)
    winner: Winner | None = None


class UpdateStep(Strict):
    """Set one of the customer's attributes."""

    attribute: AttributeName
    value: Scalar


class WebhookStep(Strict):
    """Post the run's state to one of the outbound webhook endpoints (`/v1/webhook-endpoints`)."""

    endpoint: int = Field(ge=1)


class ExitStep(Strict):
    pass


class Step(Strict):
    """One step: its id, exactly one kind key, and optionally `next` (else the following step in the list)."""

    id: StepId
    send: SendStep | None = None
    wait: WaitStep | None = None
    branch: BranchStep | None = None
    split: SplitStep | None = None
    update: UpdateStep | None = None
    webhook: WebhookStep | None = None
    exit: ExitStep | None = None
    next: StepId | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Step:
        exactly_one(self, STEP_KEYS, f"step '{self.id}'")
        if self.next is not None and self.kind in ("branch", "split", "exit"):
            raise ValueError(f"step '{self.id}': a {self.kind} step chooses its next step itself")
        return self

    @property
    def kind(self) -> str:
        return next(name for name in STEP_KEYS if getattr(self, name) is not None)

    @property
    def body(self) -> BaseModel:
        body: BaseModel = getattr(self, self.kind)
        return body


STEP_KEYS = ("send", "wait", "branch", "split", "update", "webhook", "exit")


class JourneyContent(Strict):
    """What a version holds: everything but the journey's key and category, which never change."""

    name: Annotated[Line, Field(min_length=1, max_length=200)]
    trigger: Trigger
    reentry: Reentry = Reentry.ONCE_AT_A_TIME
    goal: Goal | None = None
    quiet_hours: QuietHours | None = None
    frequency_cap: FrequencyCap | None = None
    """Marketing sends of the journey skip a customer who already had this many marketing messages."""
    data: JsonObject = Field(default_factory=dict)
    """Data every send step of the journey gets, under the triggering event's properties."""
    steps: list[Step] = Field(min_length=1, max_length=100)


class JourneyCreate(JourneyContent):
    key: TemplateKey
    category: Annotated[str, Field(pattern="^(transactional|marketing)$")]
