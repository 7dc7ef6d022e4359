"""Many customer upserts in one call (`POST /v1/customers:batch`), each with its own result.

Each item is validated and written on its own savepoint through the same `upsert_customer` a single `PUT`
uses, so one bad item never takes the others down and both paths store a record alike.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from ccm.customers.attribute_types import Declarations
from ccm.customers.attributes import declarations
from ccm.customers.schemas import BatchItemError, CustomerBatchItem, CustomerBatchResult
from ccm.customers.service import upsert_customer
from ccm.errors import ApiError, Conflict, Unprocessable, validation_failure


def upsert_batch(session: Session, items: list[dict[str, Any]]) -> list[CustomerBatchResult]:
    """Upsert every item in order; an external id named twice is an error on its later item."""
    first_index: dict[str, int] = {}
    declared = declarations(session)  # read once for every item
    results = []
    for index, item in enumerate(items):
        named = _echoed(item.get("external_id"))
        try:
            _refuse_repeat(named, index, first_index)
            status = _upsert_item(session, item, declared)
        except ApiError as error:
            failure = BatchItemError(code=error.code, message=error.message, field=error.field)
            results.append(CustomerBatchResult(index=index, external_id=named, status="error", error=failure))
            continue
        results.append(CustomerBatchResult(index=index, external_id=named, status=status))
    return results


def _echoed(external_id: Any) -> str | None:
    """The item's external id as sent, for its result; half a UTF-16 pair (`"\\ud800"`) shows as `?`."""
    return external_id.encode("utf-8", "replace").decode() if isinstance(external_id, str) else None


def _refuse_repeat(external_id: str | None, index: int, first_index: dict[str, int]) -> None:
    if external_id is None:
        return
    earlier = first_index.setdefault(external_id, index)
    if earlier != index:
        raise Unprocessable(
            f"external_id '{external_id}' already appears at index {earlier}: one upsert per customer",
            field="external_id",
            code="duplicate_external_id",
        )


def _upsert_item(session: Session, item: dict[str, Any], declared: Declarations) -> str:
    """'created' or 'updated'; a refused item leaves nothing behind (its savepoint is rolled back)."""
    try:
        request = CustomerBatchItem.model_validate(item)
    except ValidationError as error:
        raise validation_failure(error.errors()) from None
    try:
        with session.begin_nested():
            _, created = upsert_customer(session, request.external_id, request, declared)
    except IntegrityError:
        raise Conflict(
            "another request created this customer at the same moment: send the item again",
            field="external_id",
            code="concurrent_upsert",
        ) from None
    return "created" if created else "updated"
