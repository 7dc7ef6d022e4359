"""Creating and reading campaigns: the template version is pinned and render-checked once, up front."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from ccm.campaigns.models import Campaign, CampaignStatus
from ccm.campaigns.schemas import CampaignCreate, CampaignOut, CampaignProgress
from ccm.campaigns.timing import earliest_local_due
from ccm.channels import RenderOptions, default_campaign_channels
from ccm.communications.models import Message
from ccm.customers.segments import check_rule, find_segment
from ccm.database import utcnow
from ccm.errors import NotFound, Unprocessable
from ccm.personalisation.context import PREVIEW_CUSTOMER, build_context, deep_merge
from ccm.personalisation.render import check_renders
from ccm.registry.contract import validate_data
from ccm.registry.locales import parts_for_locale, posix_locale
from ccm.registry.models import Template, TemplateVersion
from ccm.registry.service import channels_for, get_template, require_published
from ccm.settings import Settings


def create_campaign(
    session: Session, request: CampaignCreate, *, settings: Settings, api_key_id: int | None
) -> Campaign:
    """A scheduled campaign; the scheduler's fan-out job picks it up at `fanout_at`."""
    template = get_template(session, request.template)
    version = require_published(session, template)
    channels = channels_for(version, request.channels, default=default_campaign_channels)
    segment = _segment(session, request)
    _check_schedule(request)
    validate_data(version.data_schema, request.data)
    _check_sample_render(template, version, channels, request, settings)
    assert template.id is not None and version.id is not None
    now = utcnow()
    campaign = Campaign(
        name=request.name,
        template_id=template.id,
        template_version_id=version.id,
        channels=channels,
        segment=segment,
        data=request.data,
        status=CampaignStatus.SCHEDULED,
        send_at=request.send_at,
        local_time=request.local_time,
        local_date=request.local_date.isoformat() if request.local_date else None,
        quiet_hours=request.quiet_hours.model_dump() if request.quiet_hours else None,
        frequency_cap=request.frequency_cap.model_dump() if request.frequency_cap else None,
        throttle_per_minute=request.throttle_per_minute,
        fanout_at=_fanout_at(request, now),
        created_by=api_key_id,
    )
    session.add(campaign)
    session.flush()
    return campaign


def _fanout_at(request: CampaignCreate, now: datetime) -> datetime:
    """Now, `send_at`, or early enough for the first time zone to reach the local send time."""
    if request.local_time is not None and request.local_date is not None:
        return max(now, earliest_local_due(request.local_date, request.local_time))
    return max(now, request.send_at) if request.send_at else now


def _segment(session: Session, request: CampaignCreate) -> dict[str, Any]:
    """The rule the campaign keeps: its own `segment`, checked, or a copy of the saved segment's rule (so
    editing or deleting the saved segment later changes no campaign already created)."""
    if request.segment_key is None:
        check_rule(request.segment, "segment")
        return request.segment
    if "segment" in request.model_fields_set:
        raise Unprocessable(
            "give either segment or segment_key, not both", field="segment_key", code="invalid_segment"
        )
    saved = find_segment(session, request.segment_key)
    if saved is None:
        raise Unprocessable(
            f"segment '{request.segment_key}' not found", field="segment_key", code="segment_not_found"
        )
    return dict(saved.rule)


def _check_schedule(request: CampaignCreate) -> None:
    if request.local_time is not None and request.send_at is not None:
        raise Unprocessable(
            "use either send_at or local_time with local_date, not both", field="local_time", code="invalid"
        )
    if (request.local_time is None) != (request.local_date is None):
        missing = "local_date" if request.local_date is None else "local_time"
        raise Unprocessable("local_time and local_date go together", field=missing, code="invalid")


def _check_sample_render(
    template: Template,
    version: TemplateVersion,
    channels: list[str],
    request: CampaignCreate,
    settings: Settings,
) -> None:
    """A render check with the version's sample customer and data plus the campaign's data, in every
    locale the version has a variant for (its recipients may be in any of them)."""
    sample = {**PREVIEW_CUSTOMER, **(version.sample_data.get("customer") or {})}
    context = build_context(sample, deep_merge(version.sample_data, request.data))
    for locale in ["en", *(posix_locale(tag) for tag in sorted(version.locales or {}))]:
        options = RenderOptions(locale=locale, timezone="UTC", assets_dir=settings.assets_dir)
        check_renders(
            settings, template.category, parts_for_locale(version, locale), channels, context, options
        )


def get_campaign(session: Session, campaign_id: int, *, for_update: bool = False) -> Campaign:
    campaign = session.get(Campaign, campaign_id, with_for_update=for_update)
    if campaign is None:
        raise NotFound(f"campaign {campaign_id} not found", field="campaign_id", code="campaign_not_found")
    return campaign


def list_campaigns(
    session: Session, *, status: str | None = None, limit: int = 50, offset: int = 0
) -> list[Campaign]:
    statement = select(Campaign)
    if status:
        statement = statement.where(Campaign.status == status)
    statement = statement.order_by(col(Campaign.id).desc()).limit(limit).offset(offset)
    return list(session.exec(statement).all())


def message_counts(session: Session, campaign_id: int) -> dict[str, int]:
    """The campaign's messages by state, straight from the outbox (served by ix_messages_campaign)."""
    rows = session.exec(
        select(Message.status, func.count())
        .where(Message.campaign_id == campaign_id)
        .group_by(col(Message.status))
    ).all()
    return {str(status): int(count) for status, count in rows}


def campaign_out(session: Session, campaign: Campaign) -> CampaignOut:
    assert campaign.id is not None
    template = session.get(Template, campaign.template_id)
    version = session.get(TemplateVersion, campaign.template_version_id)
    assert template is not None and version is not None
    progress = CampaignProgress(
        targeted=campaign.targeted,
        queued=campaign.queued,
        skipped=dict(campaign.skipped),
        messages=message_counts(session, campaign.id),
        batches=campaign.batches,
        checkpoint_customer_id=campaign.checkpoint_customer_id,
    )
    return CampaignOut(
        id=campaign.id,
        name=campaign.name,
        template=template.key,
        template_version=version.number,
        channels=list(campaign.channels),
        segment=dict(campaign.segment),
        status=campaign.status,
        send_at=campaign.send_at,
        local_time=campaign.local_time,
        local_date=campaign.local_date,
        quiet_hours=campaign.quiet_hours,
        frequency_cap=campaign.frequency_cap,
        throttle_per_minute=campaign.throttle_per_minute,
        fanout_at=campaign.fanout_at,
        created_at=campaign.created_at,
        started_at=campaign.started_at,
        completed_at=campaign.completed_at,
        progress=progress,
    )
