"""Accepting sends: resolve template and customer, apply the send rules, check the context, queue one row
per channel.

Nothing is rendered for real here: the rows are the durable promise, and workers do the rest.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, col, select

from ccm.channels import RenderOptions, deadline_seconds, default_send_channels, get_channel
from ccm.communications import idempotency
from ccm.communications.models import Message, MessageStatus
from ccm.communications.schemas import (
    BatchItem,
    BatchItemResult,
    BatchResponse,
    MessageCreate,
    MessagesAccepted,
    QueuedMessage,
)
from ccm.customers.models import Customer
from ccm.customers.service import get_customer
from ccm.database import utcnow
from ccm.eligibility.rules import policy_of, require_eligible
from ccm.engagement.models import EventType
from ccm.engagement.service import insert_message_event, record_message_event
from ccm.errors import ApiError, Conflict, NotFound, Unprocessable, error_body
from ccm.personalisation.context import build_context, context_digest, customer_context
from ccm.personalisation.render import check_renders, check_renders_each
from ccm.registry.contract import validate_data
from ccm.registry.live import live_version
from ccm.registry.locales import parts_for_locale
from ccm.registry.models import Category, Template, TemplateVersion
from ccm.registry.send_contract import require_customer_paths, send_contract
from ccm.registry.service import channels_for
from ccm.settings import Settings
from ccm.validation import is_uuid

PRIORITY = {Category.TRANSACTIONAL: 0, Category.MARKETING: 10}
INSERT_MESSAGE = insert(Message.__table__)  # type: ignore[attr-defined]
"""Outbox rows as plain values, built once: a Core insert on the table, not the ORM's bulk insert path
(and no cache key to compute per send)."""


@dataclass(frozen=True)
class SendOutcome:
    status_code: int
    body: dict[str, Any]
    replayed: bool


@dataclass
class SendPlan:
    """A send request resolved against the database (template, customer, rules), before anything renders:
    the request's transaction can end here, so no database lock is held while an author's template runs."""

    request: MessageCreate
    body_hash: str
    idempotency_key: str | None
    replay: SendOutcome | None = None
    template: Template | None = None
    version: TemplateVersion | None = None
    customer: Customer | None = None
    channels: list[str] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)
    options: RenderOptions | None = None
    render_check: bool = True
    """False when the version's data contract covers every variable its parts read
    (`ccm.registry.send_contract`): validating the data stood in for rendering, so `check_plan` has
    nothing to do and the request needs no transaction of its own around a render."""


def plan_send(
    session: Session,
    request: MessageCreate,
    *,
    settings: Settings,
    idempotency_key: str | None,
    api_key_id: int | None,
) -> SendPlan:
    """Reads only: a replayed response, or everything the send needs; 4xx for what would be refused."""
    body_hash = idempotency.request_hash(request.model_dump(mode="json"))
    plan = SendPlan(request, body_hash, idempotency_key)
    if idempotency_key is not None:
        previous = idempotency.replay(session, idempotency_key, body_hash, api_key_id=api_key_id)
        if previous is not None:
            plan.replay = SendOutcome(previous.response_status, previous.response_body, replayed=True)
            return plan
    plan.template, plan.version = live_version(session, request.template)
    plan.customer = customer = get_customer(session, request.customer_id)
    plan.channels = channels_for(plan.version, request.channels, default=default_send_channels)
    contract = send_contract(plan.version)
    validate_data(plan.version.data_schema, request.data, validator=contract.validator)
    require_eligible(session, plan.template, customer, plan.channels, policy_of(settings))
    plan.context = build_context(customer_context(customer), request.data)
    if contract.covers_parts:
        require_customer_paths(contract, plan.context, plan.channels)
        plan.render_check = False
    plan.options = RenderOptions(
        locale=customer.locale, timezone=customer.timezone, assets_dir=settings.assets_dir
    )
    _deadline_after_due(request)
    return plan


def check_plan(settings: Settings, plan: SendPlan) -> None:
    """The send-time render check, in the render pool: 422 for a missing variable or a render limit.
    Nothing to do for a plan whose data contract covers its parts (validated in `plan_send`)."""
    assert plan.template is not None and plan.version is not None and plan.options is not None
    if not plan.render_check:
        return
    parts = parts_for_locale(plan.version, plan.options.locale)
    check_renders(settings, plan.template.category, parts, plan.channels, plan.context, plan.options)


def check_plans(settings: Settings, plans: list[SendPlan]) -> list[Unprocessable | None]:
    """The same check for a batch's plans, in one pool call per category: each plan's error, or None
    (None at once for those whose data contract covers their parts)."""
    by_category: dict[str, list[int]] = {}
    for index, plan in enumerate(plans):
        assert plan.template is not None
        if plan.render_check:
            by_category.setdefault(plan.template.category, []).append(index)
    errors: list[Unprocessable | None] = [None] * len(plans)
    for category, indexes in by_category.items():
        checks = [_check_of(plans[i]) for i in indexes]
        for index, error in zip(indexes, check_renders_each(settings, category, checks), strict=True):
            errors[index] = error
    return errors


def _check_of(plan: SendPlan) -> tuple[dict[str, Any], list[str], dict[str, Any], RenderOptions]:
    assert plan.version is not None and plan.options is not None
    return parts_for_locale(plan.version, plan.options.locale), plan.channels, plan.context, plan.options


def queue_planned(
    session: Session, plan: SendPlan, *, settings: Settings, api_key_id: int | None
) -> SendOutcome:
    """Writes: one outbox row per channel, and the response remembered under the idempotency key."""
    if plan.replay is not None:
        return plan.replay
    accepted = _queue(session, plan, settings)
    body = accepted.model_dump(mode="json")
    if plan.idempotency_key is not None:
        idempotency.remember(
            session,
            key=plan.idempotency_key,
            body_hash=plan.body_hash,
            api_key_id=api_key_id,
            status=202,
            response=body,
            ttl_hours=settings.idempotency_ttl_hours,
        )
    return SendOutcome(202, body, replayed=False)


def send_batch(
    session: Session,
    items: list[BatchItem],
    *,
    settings: Settings,
    api_key_id: int | None,
    release: Callable[[], None],
) -> BatchResponse:
    """Plan every item (reads), `release` the transaction, check all renders in one pool call, then write
    each item on its own savepoint with its own key: one bad item never takes the others down."""
    errors: dict[int, ApiError] = {}
    plans: dict[int, SendPlan] = {}
    for index, item in enumerate(items):
        request = MessageCreate.model_validate(item.model_dump(exclude={"idempotency_key"}))
        try:
            plans[index] = plan_send(
                session,
                request,
                settings=settings,
                idempotency_key=item.idempotency_key,
                api_key_id=api_key_id,
            )
        except ApiError as error:
            errors[index] = error
    release()
    fresh = [index for index, plan in plans.items() if plan.replay is None]
    checked = check_plans(settings, [plans[i] for i in fresh])
    for index, failure in zip(fresh, checked, strict=True):
        if failure is not None:
            errors[index] = failure
    results = []
    for index, item in enumerate(items):
        outcome: SendOutcome | None = None
        if index not in errors:
            try:
                with session.begin_nested():
                    outcome = queue_planned(session, plans[index], settings=settings, api_key_id=api_key_id)
            except ApiError as error:
                errors[index] = error
        results.append(_batch_result(index, item.idempotency_key, outcome, errors.get(index)))
    accepted = sum(1 for r in results if r.status == 202)
    return BatchResponse(accepted=accepted, rejected=len(results) - accepted, results=results)


def _batch_result(
    index: int, key: str, outcome: SendOutcome | None, error: ApiError | None
) -> BatchItemResult:
    if error is not None or outcome is None:
        assert error is not None
        body = error_body(error.code, error.message, error.field, error.extra)["error"]
        return BatchItemResult(index=index, idempotency_key=key, status=error.status_code, error=body)
    queued = [QueuedMessage.model_validate(m) for m in outcome.body.get("messages", [])]
    return BatchItemResult(index=index, idempotency_key=key, status=outcome.status_code, messages=queued)


def _deadline_after_due(request: MessageCreate) -> None:
    due = max(request.send_at, utcnow()) if request.send_at else utcnow()
    if request.expires_at is not None and request.expires_at <= due:
        raise Unprocessable(
            "expires_at must be after the send time", field="expires_at", code="invalid_deadline"
        )


def _queue(session: Session, plan: SendPlan, settings: Settings) -> MessagesAccepted:
    """The rows `create_message` would write, as one INSERT of plain values (no ORM object per message to
    build and flush: the request's hot path), each with its `queued` event inserted the same way."""
    request, template, version, customer = plan.request, plan.template, plan.version, plan.customer
    assert template is not None and version is not None and customer is not None
    now = utcnow()
    due = max(request.send_at, now) if request.send_at else now
    rows = [
        message_values(
            template=template,
            version=version,
            customer=customer,
            channel=channel,
            context=plan.context,
            send_at=request.send_at,
            due=due,
            deadline=request.expires_at or due + timedelta(seconds=deadline_seconds(settings, channel)),
            now=now,
        )
        for channel in plan.channels
    ]
    session.execute(INSERT_MESSAGE, rows)
    detail = queued_event_detail(template, version)
    for row in rows:
        queued = _Queued(row["id"], row["customer_id"], row["channel"])
        insert_message_event(session, queued, EventType.QUEUED, detail, occurred_at=row["created_at"])
    return MessagesAccepted(
        messages=[QueuedMessage(id=row["id"], channel=row["channel"], status=row["status"]) for row in rows]
    )


@dataclass
class _Queued:
    """What the `queued` event needs of a message written as plain values."""

    id: str
    customer_id: int
    channel: str


def message_values(
    *,
    template: Template,
    version: TemplateVersion,
    customer: Customer,
    channel: str,
    context: dict[str, Any],
    due: datetime,
    deadline: datetime,
    send_at: datetime | None = None,
    campaign_id: int | None = None,
    now: datetime | None = None,
    archive_only: bool = False,
) -> dict[str, Any]:
    """The columns of a new outbox row: one definition for single sends and for campaign fan-out (and
    batch runs, whose `archive_only` documents are rendered and archived, never handed off)."""
    assert customer.id is not None and version.id is not None
    category = Category(template.category)
    created = now or utcnow()
    return {
        "id": str(uuid.uuid4()),
        "customer_id": customer.id,
        "template_version_id": version.id,
        "template_key": template.key,
        "template_version": version.number,
        "category": category.value,
        "channel": channel,
        "recipient": get_channel(channel).recipient(customer),
        "status": MessageStatus.QUEUED.value,
        "priority": PRIORITY[category],
        "lane": category.value,
        "archive_only": archive_only,
        "campaign_id": campaign_id,
        "context": context,
        "context_sha256": context_digest(context),
        "send_at": send_at,
        "next_attempt_at": due,
        "deadline_at": deadline,
        "attempts": 0,
        "created_at": created,
        "updated_at": created,
    }


def queued_event_detail(
    template: Template, version: TemplateVersion, campaign_id: int | None = None
) -> dict[str, Any]:
    detail: dict[str, Any] = {"template": template.key, "version": version.number}
    if campaign_id is not None:
        detail["campaign_id"] = campaign_id
    return detail


def queued_event_values(message: dict[str, Any], detail: dict[str, Any]) -> dict[str, Any]:
    """The `queued` event of a row from `message_values`, for callers that insert many rows at once."""
    return {
        "customer_id": message["customer_id"],
        "type": EventType.QUEUED.value,
        "message_id": message["id"],
        "channel": message["channel"],
        "detail": detail,
        "occurred_at": message["created_at"],
    }


def create_message(
    session: Session,
    *,
    template: Template,
    version: TemplateVersion,
    customer: Customer,
    channel: str,
    context: dict[str, Any],
    due: datetime,
    deadline: datetime,
    send_at: datetime | None = None,
    campaign_id: int | None = None,
) -> Message:
    """One outbox row (and its `queued` event); the caller has checked consent and the context."""
    message = Message(
        **message_values(
            template=template,
            version=version,
            customer=customer,
            channel=channel,
            context=context,
            due=due,
            deadline=deadline,
            send_at=send_at,
            campaign_id=campaign_id,
        )
    )
    session.add(message)
    session.flush()
    record_message_event(
        session, message, EventType.QUEUED, queued_event_detail(template, version, campaign_id)
    )
    return message


def cancel(session: Session, message_id: str) -> Message:
    """Cancel a message nobody has started on (queued, not claimed); anything later is refused."""
    message = get_message(session, message_id, for_update=True)
    if message.status != MessageStatus.QUEUED or message.attempts > 0 or message.locked_by is not None:
        raise Conflict(
            f"message is {message.status}{' and in progress' if message.locked_by else ''}; only a queued"
            " message that was never attempted can be cancelled",
            code="not_cancellable",
        )
    message.status = MessageStatus.CANCELLED
    message.updated_at = utcnow()
    session.add(message)
    record_message_event(session, message, EventType.CANCELLED)
    return message


def requeue(session: Session, message_id: str, *, settings: Settings) -> Message:
    """Give a failed (dead-lettered) message a new deadline; its archived bytes are sent unchanged."""
    message = get_message(session, message_id, for_update=True)
    if message.status != MessageStatus.FAILED:
        raise Conflict(
            f"message is {message.status}; only failed messages can be requeued", code="not_failed"
        )
    now = utcnow()
    message.status = MessageStatus.QUEUED
    message.attempts = 0
    message.next_attempt_at = now
    message.deadline_at = now + timedelta(seconds=deadline_seconds(settings, message.channel))
    message.updated_at = now
    session.add(message)
    record_message_event(session, message, EventType.REQUEUED)
    return message


def get_message(session: Session, message_id: str, *, for_update: bool = False) -> Message:
    message = session.get(Message, message_id, with_for_update=for_update) if is_uuid(message_id) else None
    if message is None:
        raise NotFound(f"message '{message_id}' not found", field="message_id", code="message_not_found")
    return message


def list_messages(
    session: Session,
    *,
    status: str | None = None,
    channel: str | None = None,
    template: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Message]:
    statement = select(Message)
    if template:
        statement = statement.where(Message.template_key == template)
    if status:
        statement = statement.where(Message.status == status)
    if channel:
        statement = statement.where(Message.channel == channel)
    statement = (
        statement.order_by(col(Message.created_at).desc(), col(Message.id)).limit(limit).offset(offset)
    )
    return list(session.exec(statement).all())
