"""The fan-out: customers in id order, one batch at a time, the checkpoint committed with the batch.

No database lock is held while an author's template renders, so each batch runs in three steps:
1. a read-only session (no row lock; on SQLite no write lock) reads the segment's customers after the
   checkpoint (keyset pagination; the segment is the query's WHERE clause, `ccm.customers.segment_sql`),
   the send rules' facts, the frequency caps and each eligible recipient's context;
2. the batch's render check runs in one render-pool call with no session open;
3. one write transaction locks the campaign row and goes on only if the campaign is still fanning out from
   the checkpoint step 1 read (a pause or cancel meanwhile ends the run; a batch another runner committed
   meanwhile is read again from the new checkpoint). It queues a message per eligible recipient and
   channel, records every recipient (queued or skipped, with a reason) under a unique (campaign, customer,
   channel) index, and moves the checkpoint, all in one commit.
A crash loses at most the uncommitted batch, which the next run redoes; nothing is sent twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from ccm.campaigns.caps import capped
from ccm.campaigns.models import FANNING_OUT, Campaign, CampaignRecipient, CampaignStatus
from ccm.campaigns.timing import local_due, outside_quiet_hours, throttled
from ccm.channels import RenderOptions, deadline_seconds
from ccm.communications.models import Message
from ccm.communications.service import message_values, queued_event_detail, queued_event_values
from ccm.customers.models import Customer
from ccm.customers.segments import where as segment_where
from ccm.database import read_only, session_scope, utcnow
from ccm.eligibility.rules import Recipient, policy_of, refusals
from ccm.engagement.models import Event
from ccm.personalisation.context import build_context, customer_context
from ccm.personalisation.render import check_renders_each
from ccm.registry.locales import parts_for_locale
from ccm.registry.models import Category, Template, TemplateVersion
from ccm.settings import Settings

BatchHook = Callable[[int], None]
"""Called with the batch number just before a batch commits (tests inject crashes here)."""
Key = tuple[int | None, str]
"""A recipient by customer id and channel."""


class Step(Enum):
    """What one pass of the batch loop did."""

    COMMITTED = "committed"  # a batch was queued and the checkpoint moved
    STALE = "stale"  # another runner moved the checkpoint while this batch rendered: read again
    DONE = "done"  # every customer considered, or the campaign paused or cancelled


def fan_out(
    engine: Engine,
    campaign_id: int,
    settings: Settings,
    *,
    batch_size: int = 500,
    before_commit: BatchHook | None = None,
) -> int:
    """Run batches until the campaign is fully considered, paused or cancelled; returns batches run."""
    batches = 0
    while (step := _run_batch(engine, campaign_id, settings, batch_size, before_commit)) is not Step.DONE:
        if step is Step.COMMITTED:
            batches += 1
    return batches


def _run_batch(
    engine: Engine, campaign_id: int, settings: Settings, batch_size: int, before_commit: BatchHook | None
) -> Step:
    """Read, render with no session open, then write: no writer waits while a template renders."""
    with session_scope(read_only(engine)) as session:
        plan = _plan(session, campaign_id, settings, batch_size)
    if plan is None:
        return Step.DONE
    plan.check_renders()
    with session_scope(engine) as session:
        return _commit(session, plan, before_commit)


def _plan(session: Session, campaign_id: int, settings: Settings, batch_size: int) -> Plan | None:
    """The batch after the checkpoint and everything decided about it before rendering."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.status not in FANNING_OUT:
        return None
    template = session.get(Template, campaign.template_id)
    version = session.get(TemplateVersion, campaign.template_version_id)
    assert template is not None and version is not None
    now = utcnow()
    customers = list(
        session.exec(
            select(Customer)
            .where(
                col(Customer.id) > campaign.checkpoint_customer_id,
                segment_where(session, campaign.segment, now),
            )
            .order_by(col(Customer.id))
            .limit(batch_size)
        ).all()
    )
    plan = Plan(campaign, template, version, customers, settings, now)
    if customers:
        plan.decide(session)
    return plan


def _commit(session: Session, plan: Plan, before_commit: BatchHook | None) -> Step:
    """The batch's messages and checkpoint in one transaction, if the campaign is still where it was read."""
    campaign = session.get(Campaign, plan.campaign.id, with_for_update=True)
    if campaign is None or campaign.status not in FANNING_OUT:
        return Step.DONE
    if campaign.checkpoint_customer_id != plan.campaign.checkpoint_customer_id:
        return Step.STALE
    now = utcnow()
    if campaign.started_at is None:
        campaign.started_at = now
        campaign.status = CampaignStatus.RUNNING
    if not plan.customers:
        campaign.status = CampaignStatus.COMPLETED
        campaign.completed_at = now
        return Step.DONE
    Batch(session, campaign, plan, now).run()
    last_id = plan.customers[-1].id
    assert last_id is not None
    campaign.checkpoint_customer_id = last_id
    campaign.batches += 1
    campaign.updated_at = now
    if before_commit is not None:
        before_commit(campaign.batches)
    return Step.COMMITTED


@dataclass
class Plan:
    """One batch as read: who matches, who is blocked or capped, and the render context of the others."""

    campaign: Campaign  # as read, unlocked; the write locks and re-reads it
    template: Template
    version: TemplateVersion
    customers: list[Customer]
    settings: Settings
    now: datetime
    recipients: list[Recipient] = field(default_factory=list)
    reasons: dict[Key, str] = field(default_factory=dict)
    """The skip reason of each recipient who gets nothing; the others are queued."""
    contexts: dict[int | None, tuple[dict[str, Any], RenderOptions]] = field(default_factory=dict)

    def decide(self, session: Session) -> None:
        """The send rules (one gather per rule for the batch) and the frequency cap, for every recipient."""
        matched = self.customers  # the segment's WHERE clause chose them
        capped = self._capped(session, matched) if self.template.category == Category.MARKETING else set()
        self.recipients = [Recipient(c, channel) for c in matched for channel in self.campaign.channels]
        refused = refusals(session, self.template, self.recipients, policy_of(self.settings))
        for recipient in self.recipients:
            customer, key = recipient.customer, (recipient.customer.id, recipient.channel)
            if key in refused:
                self.reasons[key] = refused[key].code
            elif customer.id in capped:
                self.reasons[key] = "frequency_cap"
            elif customer.id not in self.contexts:
                self.contexts[customer.id] = self._context(customer)

    def check_renders(self) -> None:
        """The batch's render check in one pool call: a recipient who fails it is skipped with its code."""
        eligible = [r for r in self.recipients if (r.customer.id, r.channel) not in self.reasons]
        checks = [
            (parts_for_locale(self.version, r.customer.locale), [r.channel], *self.contexts[r.customer.id])
            for r in eligible
        ]
        failures = check_renders_each(self.settings, self.template.category, checks)
        for recipient, failure in zip(eligible, failures, strict=True):
            if failure is not None:
                self.reasons[(recipient.customer.id, recipient.channel)] = failure.code

    def _context(self, customer: Customer) -> tuple[dict[str, Any], RenderOptions]:
        context = build_context(customer_context(customer), self.campaign.data)
        options = RenderOptions(
            locale=customer.locale, timezone=customer.timezone, assets_dir=self.settings.assets_dir
        )
        return context, options

    def _capped(self, session: Session, customers: list[Customer]) -> set[int]:
        """Customers who already had the cap's worth of marketing messages in its rolling period."""
        ids = [c.id for c in customers if c.id is not None]
        return capped(session, self.campaign.frequency_cap, ids, self.now)


@dataclass
class Batch:
    """One batch's writes: a message per recipient not skipped, when each is due, and a row for everyone."""

    session: Session
    campaign: Campaign  # locked
    plan: Plan
    now: datetime
    skipped: Counter[str] = field(default_factory=Counter)
    recipients: list[dict[str, Any]] = field(default_factory=list)
    queued: int = 0
    messages: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    def run(self) -> None:
        for recipient in self.plan.recipients:
            customer, channel = recipient.customer, recipient.channel
            reason = self.plan.reasons.get((customer.id, channel))
            message_id = None if reason else self._queue_for(customer, channel)
            self._record(customer, channel, message_id, reason)
        self._insert(Message, self.messages)
        self._insert(Event, self.events)
        self._insert(CampaignRecipient, self.recipients)
        self.campaign.targeted += len(self.recipients)
        self.campaign.queued += self.queued
        self.campaign.skipped = dict(Counter(self.campaign.skipped) + self.skipped)

    def _queue_for(self, customer: Customer, channel: str) -> str:
        context, _ = self.plan.contexts[customer.id]
        due = self._due(customer)
        deadline = due + timedelta(seconds=deadline_seconds(self.plan.settings, channel))
        return self._queue(customer, channel, context, due, deadline)

    def _queue(
        self, customer: Customer, channel: str, context: dict[str, Any], due: datetime, deadline: datetime
    ) -> str:
        """The row (and `queued` event) `create_message` writes, collected for the batch's bulk INSERTs:
        create_message flushes per message (7 ms each on PostgreSQL here)."""
        template, version = self.plan.template, self.plan.version
        row = message_values(
            template=template,
            version=version,
            customer=customer,
            channel=channel,
            context=context,
            due=due,
            deadline=deadline,
            send_at=self.campaign.send_at,
            campaign_id=self.campaign.id,
            now=self.now,
        )
        self.messages.append(row)
        self.events.append(queued_event_values(row, queued_event_detail(template, version, self.campaign.id)))
        return str(row["id"])

    def _insert(self, model: type[SQLModel], rows: list[dict[str, Any]]) -> None:
        """One executemany per table and batch (psycopg pipelines it; a multi-row VALUES compiles slower)."""
        if rows:
            self.session.exec(insert(model), params=rows)

    def _due(self, customer: Customer) -> datetime:
        """Local send time (or send_at, or now), then the throttle slot, then the quiet hours."""
        campaign = self.campaign
        if campaign.local_time and campaign.local_date:
            due = max(
                self.now,
                local_due(date.fromisoformat(campaign.local_date), campaign.local_time, customer.timezone),
            )
        else:
            due = max(self.now, campaign.send_at) if campaign.send_at else self.now
        start = campaign.started_at or self.now
        due = throttled(due, start, campaign.queued + self.queued, campaign.throttle_per_minute)
        return outside_quiet_hours(due, campaign.quiet_hours, customer.timezone)

    def _record(self, customer: Customer, channel: str, message_id: str | None, reason: str | None) -> None:
        if reason is not None:
            self.skipped[reason] += 1
        else:
            self.queued += 1
        self.recipients.append(
            {
                "campaign_id": self.campaign.id,
                "customer_id": customer.id,
                "channel": channel,
                "message_id": message_id,
                "skip_reason": reason,
            }
        )
