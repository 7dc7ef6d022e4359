"""Which role may do what. One table, so a review of access rights reads one screen."""

from __future__ import annotations

from enum import StrEnum

from ccm.access.models import Role


class Permission(StrEnum):
    TEMPLATES_READ = "templates:read"
    TEMPLATES_WRITE = "templates:write"
    TEMPLATES_APPROVE = "templates:approve"
    CUSTOMERS_READ = "customers:read"
    CUSTOMERS_WRITE = "customers:write"
    MESSAGES_SEND = "messages:send"
    MESSAGES_READ = "messages:read"
    ARCHIVE_READ = "archive:read"
    ARCHIVE_HOLD = "archive:hold"
    AUDIT_READ = "audit:read"
    CUSTOMERS_ERASE = "customers:erase"
    OUTBOX_READ = "outbox:read"
    SUPPRESSIONS_WRITE = "suppressions:write"
    OPERATIONS_READ = "operations:read"
    CAMPAIGNS_READ = "campaigns:read"
    CAMPAIGNS_WRITE = "campaigns:write"
    KEYS_MANAGE = "keys:manage"
    ATTRIBUTES_MANAGE = "attributes:manage"
    WEBHOOKS_MANAGE = "webhooks:manage"


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.MARKETER: frozenset(
        {
            Permission.TEMPLATES_READ,
            Permission.TEMPLATES_WRITE,
            Permission.TEMPLATES_APPROVE,
            Permission.CUSTOMERS_READ,
            Permission.MESSAGES_READ,
            Permission.OUTBOX_READ,
            Permission.CAMPAIGNS_READ,
            Permission.CAMPAIGNS_WRITE,
            Permission.ATTRIBUTES_MANAGE,
        }
    ),
    Role.SENDER: frozenset(
        {
            Permission.TEMPLATES_READ,
            Permission.CUSTOMERS_READ,
            Permission.CUSTOMERS_WRITE,
            Permission.MESSAGES_SEND,
            Permission.MESSAGES_READ,
        }
    ),
    Role.COMPLIANCE: frozenset(
        {
            Permission.TEMPLATES_READ,
            Permission.CUSTOMERS_READ,
            Permission.MESSAGES_READ,
            Permission.ARCHIVE_READ,
            Permission.ARCHIVE_HOLD,
            Permission.AUDIT_READ,
        }
    ),
}


def allows(role: Role, permission: Permission) -> bool:
    return permission in GRANTS[role]
