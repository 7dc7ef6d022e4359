"""What each kind of step does, one function per kind (`STEP_KINDS`), each returning a `Result` the
engine applies: pass or skip (recorded once per run and step), hold in the step until a time, or end.

A send step queues its message through the send service the API uses, with an idempotency key derived from
(run, step, channel): the rules, the data check and the live template version are those of any send, and
a re-run never queues twice.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from ccm.campaigns.caps import capped
from ccm.campaigns.timing import outside_quiet_hours
from ccm.communications.models import Message, MessageStatus
from ccm.communications.schemas import MessageCreate
from ccm.communications.service import check_plan, plan_send, queue_planned
from ccm.customers.attribute_types import check_attributes
from ccm.customers.attributes import declarations
from ccm.customers.models import Customer
from ccm.errors import ApiError, Unprocessable
from ccm.journeys.conditions import Facts, holds
from ccm.journeys.definition import (
    BranchStep,
    JourneyContent,
    SendStep,
    SplitStep,
    Step,
    UpdateStep,
    WaitStep,
    WebhookStep,
)
from ccm.journeys.durations import add_duration, next_local_time
from ccm.journeys.models import CustomerEvent, Enrolment, Outcome, RunStatus
from ccm.journeys.winners import winner_of
from ccm.registry.models import Category
from ccm.settings import Settings
from ccm.webhooks.models import WebhookDelivery, WebhookEndpoint

JOURNEY_WEBHOOK_EVENT = "journey.step"
OUTCOME_POLL = timedelta(seconds=60)
"""How often a fallback send looks at its message's outcome again."""
DELIVERED = frozenset({MessageStatus.SENT.value, MessageStatus.DELIVERED.value})
UNDELIVERED = frozenset(
    {MessageStatus.FAILED.value, MessageStatus.BOUNCED.value, MessageStatus.CANCELLED.value}
)
"""Outcomes after which the next channel of a fallback is tried."""


@dataclass
class Run:
    """One step of one run being carried out: what a step kind reads, and `release`, which ends the
    transaction (and its locks) before slow work such as rendering."""

    session: Session
    settings: Settings
    enrolment: Enrolment
    customer: Customer
    content: JourneyContent
    step: Step
    now: datetime
    release: Callable[[], None]


@dataclass(frozen=True)
class Result:
    outcome: Outcome | None = Outcome.PASSED
    """None: nothing to record yet (the run holds in the step or ends there)."""
    next: str | None = None
    """The step to go to; None: the step's usual successor."""
    hold_until: datetime | None = None
    state: dict[str, Any] | None = None
    """Kept on the run while it holds in the step (`Enrolment.step_state`)."""
    end: RunStatus | None = None
    reason: str | None = None
    message_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def _send(run: Run, send: Any) -> Result:
    """The first channel of the step the send rules allow; each refusal (no address, consent,
    suppression, a bad template or data) is kept and the next channel tried; none left: skipped. With a
    channel left to fall back to, the run holds until the message is sent, and a permanent failure
    (failed, bounced, cancelled) tries the next channel."""
    assert isinstance(send, SendStep)
    if run.content.quiet_hours is not None:
        allowed = outside_quiet_hours(run.now, run.content.quiet_hours.model_dump(), run.customer.timezone)
        if allowed > run.now:
            return Result(outcome=None, hold_until=allowed)
    queued: dict[str, str] = dict(run.enrolment.step_state.get("messages", {}))
    refused: dict[str, str] = dict(run.enrolment.step_state.get("refused", {}))
    for index, channel in enumerate(send.channels):
        if channel in refused:
            continue
        if channel not in queued:
            try:
                queued[channel] = _queue(run, send.template, channel)
            except ApiError as error:
                refused[channel] = error.code
                continue
        status = _status_of(run.session, queued[channel])
        last = index == len(send.channels) - 1
        if status in UNDELIVERED and not last:
            refused[channel] = f"message_{status}"
            continue
        if last or status in DELIVERED or status in UNDELIVERED:
            return Result(message_id=queued[channel], detail={"channel": channel, "refused": refused})
        state = {"messages": queued, "refused": refused}
        return Result(outcome=None, hold_until=run.now + OUTCOME_POLL, state=state)
    return Result(outcome=Outcome.SKIPPED, reason=refused[send.channels[-1]], detail={"refused": refused})


def _status_of(session: Session, message_id: str) -> str:
    message = session.get(Message, message_id)
    return str(message.status) if message is not None else MessageStatus.FAILED.value


def _queue(run: Run, template: str, channel: str) -> str:
    """Queue one message as `POST /v1/messages` would, keyed by (run, step, channel); its id."""
    request = MessageCreate(
        template=template,
        customer_id=run.customer.external_id,
        channels=[channel],
        data={**run.content.data, **run.enrolment.data},
    )
    key = f"journey:{run.enrolment.id}:{run.step.id}:{channel}"
    plan = plan_send(run.session, request, settings=run.settings, idempotency_key=key, api_key_id=None)
    if plan.replay is None and plan.template is not None and plan.template.category == Category.MARKETING:
        _require_under_cap(run)
    if plan.replay is None:
        run.release()  # no lock is held while the author's template renders
        check_plan(run.settings, plan)
    outcome = queue_planned(run.session, plan, settings=run.settings, api_key_id=None)
    return str(outcome.body["messages"][0]["id"])


def _require_under_cap(run: Run) -> None:
    """422 `frequency_cap` (a refusal like a send rule's) for a customer at the journey's cap."""
    cap = run.content.frequency_cap
    assert run.customer.id is not None
    if cap is not None and capped(run.session, cap.model_dump(), [run.customer.id], run.now):
        raise Unprocessable(
            f"customer had {cap.max_messages} marketing messages in {cap.period_hours} hours",
            field="customer_id",
            code="frequency_cap",
        )


def _wait(run: Run, wait: Any) -> Result:
    """Hold until the time is reached (or the event came); an event wait records whether it came."""
    assert isinstance(wait, WaitStep)
    until = run.enrolment.wait_until
    if until is None:
        return Result(outcome=None, hold_until=_wait_end(run, wait))
    if wait.event is not None:
        if _event_since(run, wait.event):
            return Result(detail={"event": wait.event, "received": True})
        if run.now < until:
            return Result(outcome=None, hold_until=until)
        return Result(detail={"event": wait.event, "received": False})
    return Result() if run.now >= until else Result(outcome=None, hold_until=until)


def _wait_end(run: Run, wait: WaitStep) -> datetime:
    timezone = run.customer.timezone
    if wait.until is not None:
        return next_local_time(run.now, wait.until, timezone)
    duration = wait.duration or wait.timeout
    assert duration is not None
    return add_duration(run.now, duration, timezone)


def _event_since(run: Run, name: str) -> bool:
    entered = run.enrolment.step_entered_at or run.enrolment.created_at
    statement = select(CustomerEvent.id).where(
        CustomerEvent.customer_id == run.enrolment.customer_id,
        CustomerEvent.name == name,
        col(CustomerEvent.occurred_at) >= entered,
    )
    return run.session.exec(statement.limit(1)).first() is not None


def _branch(run: Run, branch: Any) -> Result:
    assert isinstance(branch, BranchStep)
    result = holds(Facts(run.session, run.enrolment, run.customer), branch.condition)
    return Result(next=branch.then if result else branch.otherwise, detail={"result": result})


def bucket(enrolment_id: str, step_id: str) -> int:
    """0-99, fixed per run and step: which split variant the run goes to, the same on every re-run."""
    digest = hashlib.sha256(f"{enrolment_id}:{step_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100


def _split(run: Run, split: Any) -> Result:
    """The variant the run's bucket falls in; once a winner is chosen (`winners`), that one."""
    assert isinstance(split, SplitStep)
    if split.winner is not None:
        chosen = winner_of(run.session, run.enrolment.version_id, run.step.id, split, run.now)
        for variant in split.variants:
            if variant.name == chosen:
                return Result(next=variant.next, detail={"variant": variant.name, "winner": True})
    point, total = bucket(run.enrolment.id, run.step.id), 0
    for variant in split.variants:
        total += variant.percent
        if point < total:
            return Result(next=variant.next, detail={"variant": variant.name})
    raise AssertionError("split percentages total 100")  # checked on save


def _update(run: Run, update: Any) -> Result:
    """Set the attribute as `PUT /v1/customers/{id}` would: a value its declared type refuses (the declaration
    may have come after the journey was published) is skipped with `attribute_invalid`, never written."""
    assert isinstance(update, UpdateStep)
    try:
        check_attributes(declarations(run.session), {update.attribute: update.value})
    except ApiError as refusal:
        return Result(
            outcome=Outcome.SKIPPED,
            reason=refusal.code,
            detail={"attribute": update.attribute, "error": refusal.message},
        )
    run.customer.attributes = {**(run.customer.attributes or {}), update.attribute: update.value}
    run.customer.updated_at = run.now
    run.session.add(run.customer)
    return Result(detail={"attribute": update.attribute})


def _webhook(run: Run, webhook: Any) -> Result:
    """Queue the run's state for one endpoint's dispatcher; a disabled or deleted endpoint skips."""
    assert isinstance(webhook, WebhookStep)
    endpoint = run.session.get(WebhookEndpoint, webhook.endpoint)
    if endpoint is None or not endpoint.enabled:
        return Result(outcome=Outcome.SKIPPED, reason="endpoint_disabled")
    body = {
        "type": JOURNEY_WEBHOOK_EVENT,
        "timestamp": run.now.isoformat().replace("+00:00", "Z"),
        "data": {
            "enrolment": run.enrolment.id,
            "step": run.step.id,
            "customer_id": run.customer.external_id,
            "properties": run.enrolment.data,
        },
    }
    delivery_id = f"msg_{uuid.uuid4().hex}"
    run.session.add(
        WebhookDelivery(
            id=delivery_id, endpoint_id=webhook.endpoint, event_type=JOURNEY_WEBHOOK_EVENT, payload=body
        )
    )
    return Result(detail={"delivery": delivery_id})


def _exit(_run: Run, _exit_step: Any) -> Result:
    return Result(end=RunStatus.EXITED, reason="exit")


STEP_KINDS: dict[str, Callable[[Run, Any], Result]] = {
    "send": _send,
    "wait": _wait,
    "branch": _branch,
    "split": _split,
    "update": _update,
    "webhook": _webhook,
    "exit": _exit,
}
"""Every kind of step, by its key in the definition (`ccm.journeys.definition.STEP_KEYS`)."""
