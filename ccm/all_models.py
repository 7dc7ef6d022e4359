"""Imports every table so that SQLModel's metadata (and Alembic) sees the whole schema."""

from ccm.access.models import ApiKey, LoginFailure, User, WebSession
from ccm.archiving.models import ArchiveEntry, ChainHead, ChainRecord, Checkpoint, CustomerKey
from ccm.batches.models import BatchFailure, BatchPages, BatchRun
from ccm.campaigns.models import Campaign, CampaignRecipient
from ccm.communications.models import IdempotencyRecord, Message
from ccm.compliance.models import AuditRecord
from ccm.customers.models import (
    Consent,
    ConsentEvent,
    Customer,
    CustomerAttribute,
    Segment,
    Suppression,
    Topic,
    Unsubscription,
)
from ccm.engagement.models import Event
from ccm.journeys.models import (
    CustomerEvent,
    Enrolment,
    Journey,
    JourneyVersion,
    SplitWinner,
    StepRun,
    TriggerMark,
)
from ccm.registry.models import Template, TemplateVersion, VersionTransition
from ccm.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookReceipt

__all__ = [
    "ApiKey",
    "ArchiveEntry",
    "AuditRecord",
    "BatchFailure",
    "BatchPages",
    "BatchRun",
    "Campaign",
    "CampaignRecipient",
    "ChainHead",
    "ChainRecord",
    "Checkpoint",
    "Consent",
    "ConsentEvent",
    "Customer",
    "CustomerAttribute",
    "CustomerEvent",
    "CustomerKey",
    "Enrolment",
    "Event",
    "IdempotencyRecord",
    "Journey",
    "JourneyVersion",
    "LoginFailure",
    "Message",
    "Segment",
    "SplitWinner",
    "StepRun",
    "Suppression",
    "Template",
    "TemplateVersion",
    "Topic",
    "TriggerMark",
    "Unsubscription",
    "User",
    "VersionTransition",
    "WebSession",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookReceipt",
]
