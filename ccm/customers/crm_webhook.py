"""`POST /webhooks/crm`: a CRM pushes customer changes, signed per Standard Webhooks.

The signature (`CCM_CRM_WEBHOOK_SECRET`, 5-minute tolerance) is checked before the body is read; a
`webhook-id` seen before is acknowledged without applying it again. Every change goes through
`upsert_customer`, the one write path of `PUT /v1/customers/{id}`, and all changes of one webhook land
together or not at all.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ValidationError
from sqlmodel import Session

from ccm.customers.schemas import CustomerBatchItem
from ccm.customers.service import upsert_customer
from ccm.dependencies import SessionDep, SettingsDep
from ccm.errors import NotFound, Unauthorized, Unprocessable
from ccm.webhooks.receipts import first_receipt
from delivery.standard_webhooks import SignatureError, verify

router = APIRouter(tags=["webhooks"])
MAX_CHANGES = 1000


class CrmChange(BaseModel):
    type: Literal["customer.upserted"]
    data: CustomerBatchItem


class CrmResult(BaseModel):
    webhook_id: str
    replay: bool
    applied: list[dict[str, str]]


@router.post("/webhooks/crm", response_model=CrmResult, responses={401: {}, 404: {}, 422: {}})
async def crm_webhook(request: Request, settings: SettingsDep, session: SessionDep) -> CrmResult:
    """Apply `{"type": "customer.upserted", "data": {...PUT body, external_id}}`, or a list of them."""
    if not settings.crm_webhook_secret:
        raise NotFound("no CRM webhook secret is configured (CCM_CRM_WEBHOOK_SECRET)", code="not_configured")
    body = await request.body()
    try:
        webhook_id = verify(settings.crm_webhook_secret, request.headers, body)
    except SignatureError as error:
        raise Unauthorized(f"webhook signature refused: {error}", code="invalid_signature") from error
    changes = parse_changes(body)
    if not first_receipt(session, "crm", webhook_id):
        return CrmResult(webhook_id=webhook_id, replay=True, applied=[])
    applied = [apply_change(session, change) for change in changes]
    return CrmResult(webhook_id=webhook_id, replay=False, applied=applied)


def parse_changes(body: bytes) -> list[CrmChange]:
    """One change or a list of them; any invalid change refuses the whole webhook, naming it."""
    try:
        document: Any = json.loads(body)
    except ValueError as error:
        raise Unprocessable(f"the body is not JSON: {error}", code="invalid_body") from error
    items = document if isinstance(document, list) else [document]
    if not 1 <= len(items) <= MAX_CHANGES:
        raise Unprocessable(f"send 1 to {MAX_CHANGES} changes", code="invalid_body")
    changes = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise Unprocessable(
                f"change {index}: must be an object with type and data", code="invalid_change"
            )
        try:
            changes.append(CrmChange.model_validate(item))
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise Unprocessable(
                f"change {index}: {where}: {first['msg']}", field=where, code="invalid_change"
            ) from None
    return changes


def apply_change(session: Session, change: CrmChange) -> dict[str, str]:
    data = change.data
    _, created = upsert_customer(session, data.external_id, data)
    return {"external_id": data.external_id, "status": "created" if created else "updated"}
