"""Send rules: every reason a send is refused, defined once and evaluated the same way everywhere.

A rule is two functions: `gather` fetches what the rule needs for many recipients at once (one query per
rule, whatever the number of recipients), and `refuse` decides for one recipient from those facts. A single
send is a bulk evaluation of one, so the send API, the batch API and campaign fan-out cannot disagree; the
first refusing rule's code is what each of them reports (422 `code`, `results[i].error.code`,
`skipped[code]`). Frequency caps and quiet hours are campaign parameters, not rules (quiet hours
reschedule, they never refuse).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from ccm.channels import Refusal, get_channel
from ccm.customers.consent_log import CHANNEL, ConsentState
from ccm.customers.models import Consent, Customer, Suppression, Unsubscription
from ccm.errors import Unprocessable
from ccm.registry.models import Category, Template
from ccm.settings import Settings


@dataclass(frozen=True)
class Recipient:
    """One customer on one channel: what a rule decides about."""

    customer: Customer
    channel: str

    @property
    def address(self) -> str:
        return get_channel(self.channel).recipient(self.customer)


Gather = Callable[[Session, Template, Sequence[Recipient]], Any]
Refuse = Callable[[Any, Template, Recipient], Refusal | None]


def _nothing(_session: Session, _template: Template, _recipients: Sequence[Recipient]) -> None:
    return None


@dataclass(frozen=True)
class Policy:
    """The operator's settings a rule may read (`CCM_DOUBLE_OPT_IN_EMAIL`), the same for every caller."""

    double_opt_in_email: bool = False


PolicyGather = Callable[[Session, Template, Sequence[Recipient], Policy], Any]


@dataclass(frozen=True)
class SendRule:
    name: str
    refuse: Refuse
    gather: Gather = _nothing
    gather_with_policy: PolicyGather | None = None
    """Used instead of `gather` by a rule that depends on the operator's settings."""

    def facts(
        self, session: Session, template: Template, recipients: Sequence[Recipient], policy: Policy
    ) -> Any:
        if self.gather_with_policy is not None:
            return self.gather_with_policy(session, template, recipients, policy)
        return self.gather(session, template, recipients)


def _no_address(_facts: None, _template: Template, recipient: Recipient) -> Refusal | None:
    if recipient.address:
        return None
    spec = get_channel(recipient.channel)
    return spec.missing_recipient or Refusal("no_address", f"customer has no {spec.label} address")


def _suppressed_addresses(
    session: Session, _template: Template, recipients: Sequence[Recipient]
) -> dict[tuple[str, str], str]:
    """(channel, normalised address) -> the suppression's reason, for the recipients' addresses."""
    wanted = {
        (r.channel, get_channel(r.channel).normalise_address(r.address))
        for r in recipients
        if get_channel(r.channel).suppressible and r.address
    }
    if not wanted:
        return {}
    addresses = sorted({address for _, address in wanted})
    column = col(Suppression.address)
    matching = column == addresses[0] if len(addresses) == 1 else column.in_(addresses)
    rows = session.exec(
        select(Suppression.channel, Suppression.address, Suppression.reason).where(matching)
    ).all()  # a single send's one address: `=`, which skips IN's per-call expansion
    return {(channel, address): reason for channel, address, reason in rows if (channel, address) in wanted}


def _suppressed(
    facts: dict[tuple[str, str], str], _template: Template, recipient: Recipient
) -> Refusal | None:
    spec = get_channel(recipient.channel)
    reason = facts.get((recipient.channel, spec.normalise_address(recipient.address)))
    if reason is None:
        return None
    return Refusal("suppressed", f"{recipient.address} is on the suppression list ({reason})")


def _opted_out(session: Session, template: Template, recipients: Sequence[Recipient]) -> set[tuple[int, str]]:
    """(customer id, channel) of the recipients' marketing opt-outs; none are read for transactional sends."""
    if template.category != Category.MARKETING or not recipients:
        return set()
    ids = {r.customer.id for r in recipients}
    rows = session.exec(
        select(Unsubscription.customer_id, Unsubscription.channel).where(
            col(Unsubscription.customer_id).in_(ids)
        )
    ).all()
    return {(customer_id, channel) for customer_id, channel in rows}


def _unsubscribed(facts: set[tuple[int, str]], template: Template, recipient: Recipient) -> Refusal | None:
    if template.category != Category.MARKETING or not get_channel(recipient.channel).marketing_consent:
        return None
    if (recipient.customer.id, recipient.channel) not in facts:
        return None
    return Refusal("unsubscribed", f"customer unsubscribed from marketing on {recipient.channel}")


def _marketing(template: Template, channel: str) -> bool:
    """Consent applies: a marketing template on a channel that carries marketing."""
    return template.category == Category.MARKETING and get_channel(channel).marketing_consent


def _consents_in(
    session: Session, template: Template, recipients: Sequence[Recipient], topic: str | None, state: str
) -> set[tuple[int, str]]:
    """(customer id, channel) of the recipients whose stored consent for `topic` is `state`."""
    if template.category != Category.MARKETING or topic is None or not recipients:
        return set()
    rows = session.exec(
        select(Consent.customer_id, Consent.channel).where(
            col(Consent.customer_id).in_({r.customer.id for r in recipients}),
            Consent.topic == topic,
            Consent.state == state,
        )
    ).all()
    return {(customer_id, channel) for customer_id, channel in rows}


def _topic_opt_outs(
    session: Session, template: Template, recipients: Sequence[Recipient]
) -> set[tuple[int, str]]:
    return _consents_in(session, template, recipients, template.topic, ConsentState.REVOKED)


def _no_topic_consent(
    facts: set[tuple[int, str]], template: Template, recipient: Recipient
) -> Refusal | None:
    if not _marketing(template, recipient.channel) or (recipient.customer.id, recipient.channel) not in facts:
        return None
    return Refusal("no_consent", f"customer opted out of '{template.topic}' on {recipient.channel}")


def _unconfirmed(
    session: Session, template: Template, recipients: Sequence[Recipient], policy: Policy
) -> set[tuple[int, str]]:
    """Recorded as pending; and, under double opt-in, every email recipient without a confirmation."""
    pending = _consents_in(session, template, recipients, CHANNEL, ConsentState.PENDING)
    email = [r for r in recipients if r.channel == "email"]
    if not policy.double_opt_in_email or not email:
        return pending
    confirmed = _consents_in(session, template, email, CHANNEL, ConsentState.GRANTED)
    ids = {r.customer.id for r in email if r.customer.id is not None}
    return pending | {(i, "email") for i in ids if (i, "email") not in confirmed}


def _pending(facts: set[tuple[int, str]], template: Template, recipient: Recipient) -> Refusal | None:
    if not _marketing(template, recipient.channel) or (recipient.customer.id, recipient.channel) not in facts:
        return None
    return Refusal("consent_pending", f"customer has not confirmed marketing on {recipient.channel} yet")


SEND_RULES: list[SendRule] = [
    SendRule("recipient_present", _no_address),
    SendRule("not_suppressed", _suppressed, _suppressed_addresses),
    SendRule("marketing_consent", _unsubscribed, _opted_out),
    SendRule("topic_consent", _no_topic_consent, _topic_opt_outs),
    SendRule("confirmed_opt_in", _pending, gather_with_policy=_unconfirmed),
]
"""Evaluated in order; the first refusal wins."""


def register_rule(rule: SendRule) -> SendRule:
    """Add a rule after the built-in ones; every kind of send applies it from then on."""
    if any(existing.name == rule.name for existing in SEND_RULES):
        raise ValueError(f"a send rule named {rule.name!r} is already registered")
    SEND_RULES.append(rule)
    return rule


def policy_of(settings: Settings) -> Policy:
    """The policy the operator's settings make: what every caller passes to the rules."""
    return Policy(double_opt_in_email=settings.double_opt_in_email)


def unregister_rule(name: str) -> None:
    SEND_RULES[:] = [rule for rule in SEND_RULES if rule.name != name]


def refusals(
    session: Session, template: Template, recipients: Sequence[Recipient], policy: Policy = Policy()
) -> dict[tuple[int | None, str], Refusal]:
    """The bulk form: each refused recipient (by customer id and channel) with the first rule's refusal."""
    rules = list(SEND_RULES)
    facts = [rule.facts(session, template, recipients, policy) for rule in rules]
    refused: dict[tuple[int | None, str], Refusal] = {}
    for recipient in recipients:
        for rule, known in zip(rules, facts, strict=True):
            refusal = rule.refuse(known, template, recipient)
            if refusal is not None:
                refused[(recipient.customer.id, recipient.channel)] = refusal
                break
    return refused


def refusal(
    session: Session, template: Template, customer: Customer, channel: str, policy: Policy = Policy()
) -> Refusal | None:
    """The single form: why `customer` may not get `template` on `channel`, or None when they may."""
    return refusals(session, template, [Recipient(customer, channel)], policy).get((customer.id, channel))


def require_eligible(
    session: Session, template: Template, customer: Customer, channels: list[str], policy: Policy = Policy()
) -> None:
    """A 422 with the refusing rule's code when any of `channels` is refused (the first, in order)."""
    refused = refusals(session, template, [Recipient(customer, channel) for channel in channels], policy)
    for channel in channels:
        found = refused.get((customer.id, channel))
        if found is not None:
            raise Unprocessable(found.message, field="customer_id", code=found.code)
