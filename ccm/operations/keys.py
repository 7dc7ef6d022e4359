"""HTTP for API keys (admin only): list them and revoke one, which refuses it everywhere at once.

Creating keys stays on the command line (`ccm keys create`): a raw key is shown once, to whoever runs the
service, never over the API.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from ccm.access.models import ApiKey
from ccm.access.permissions import Permission
from ccm.access.schemas import ApiKeyOut
from ccm.access.service import list_api_keys, owner_emails, revoke_api_key, shown_prefix
from ccm.dependencies import SessionDep, require

router = APIRouter(prefix="/v1/keys", tags=["keys"])
KeyManager = Annotated[ApiKey, Depends(require(Permission.KEYS_MANAGE))]
KeyId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def key_out(api_key: ApiKey, owners: dict[int, str]) -> ApiKeyOut:
    """A key as lists show it; `owners` maps user ids to emails (`owner_emails`)."""
    assert api_key.id is not None
    return ApiKeyOut(
        id=api_key.id,
        name=api_key.name,
        role=api_key.role,
        prefix=shown_prefix(api_key),
        created_at=api_key.created_at,
        revoked_at=api_key.revoked_at,
        owner=None if api_key.owner_user_id is None else owners.get(api_key.owner_user_id),
    )


@router.get("", response_model=list[ApiKeyOut])
def list_keys(session: SessionDep, _caller: KeyManager) -> list[ApiKeyOut]:
    """Every key, revoked ones included, oldest first, each with its owner's email (null: a system's key)."""
    keys = list_api_keys(session)
    owners = owner_emails(session, keys)
    return [key_out(api_key, owners) for api_key in keys]


@router.delete("/{key_id}", status_code=204, response_class=Response, responses={404: {}})
def revoke_key(key_id: KeyId, session: SessionDep, _caller: KeyManager) -> Response:
    """Revoke a key: its next API request is a 401 and its web sessions end. Revoking again is harmless."""
    revoke_api_key(session, key_id)
    return Response(status_code=204)
