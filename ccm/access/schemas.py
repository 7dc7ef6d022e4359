"""API shapes for API keys. The key itself and its hash never leave the service; the short prefix lets an
operator tell which row a key they hold belongs to."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from ccm.access.models import Role


class ApiKeyOut(BaseModel):
    id: int
    name: str
    role: Role
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    owner: str | None
    """The email of the person the key acts as, or null for a system's key."""
