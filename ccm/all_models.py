"""Imports every table so that SQLModel's metadata (and Alembic) sees the whole schema."""

from ccm.access.models import ApiKey, LoginFailure, User, WebSession
from ccm.archiving.models import ArchiveEntry, ChainHead, ChainRecord, Checkpoint, CustomerKey
from ccm.campaigns.models import Campaign, CampaignRecipient
from ccm.communications.models import IdempotencyRecord, Message
from ccm.compliance.models import AuditRecord
from ccm.customers.models import Customer, Suppression, Unsubscription
from ccm.engagement.models import Event
from ccm.registry.models import Template, TemplateVersion, VersionTransition

__all__ = [
    "ApiKey",
    "ArchiveEntry",
    "AuditRecord",
    "Campaign",
    "CampaignRecipient",
    "ChainHead",
    "ChainRecord",
    "Checkpoint",
    "Customer",
    "CustomerKey",
    "Event",
    "IdempotencyRecord",
    "LoginFailure",
    "Message",
    "Suppression",
    "Template",
    "TemplateVersion",
    "Unsubscription",
    "User",
    "VersionTransition",
    "WebSession",
]
