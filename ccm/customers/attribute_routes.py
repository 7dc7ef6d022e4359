"""HTTP for declared custom attributes: declare, list, read and delete (`/v1/customer-attributes`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from ccm.access.models import ApiKey
from ccm.access.permissions import Permission
from ccm.customers import attributes
from ccm.customers.attribute_schemas import ATTRIBUTE_NAME, AttributeDeclaration, AttributeList, AttributeOut
from ccm.customers.models import CustomerAttribute
from ccm.dependencies import ReadSessionDep, SessionDep, require

router = APIRouter(prefix="/v1/customer-attributes", tags=["customers"])
Reader = Annotated[ApiKey, Depends(require(Permission.CUSTOMERS_READ))]
Manager = Annotated[ApiKey, Depends(require(Permission.ATTRIBUTES_MANAGE))]
Name = Annotated[str, Path(min_length=1, max_length=100, pattern=ATTRIBUTE_NAME)]


def _out(row: CustomerAttribute) -> AttributeOut:
    return AttributeOut.model_validate(row, from_attributes=True)


@router.post(
    "",
    status_code=201,
    response_model=AttributeOut,
    responses={409: {"description": "declared already, or stored customers violate the type (`count`)"}},
)
def declare(request: AttributeDeclaration, session: SessionDep, _caller: Manager) -> AttributeOut:
    """Declare an attribute's type once; every customer write is checked against it from then on."""
    return _out(attributes.declare_attribute(session, request))


@router.get("", response_model=AttributeList)
def list_declared(session: ReadSessionDep, _caller: Reader) -> AttributeList:
    return AttributeList(attributes=[_out(row) for row in attributes.list_attributes(session)])


@router.get("/{name}", response_model=AttributeOut)
def get_declared(name: Name, session: ReadSessionDep, _caller: Reader) -> AttributeOut:
    return _out(attributes.get_attribute(session, name))


@router.delete("/{name}", status_code=204)
def delete_declared(name: Name, session: SessionDep, _caller: Manager) -> Response:
    """Forget the declaration; stored values stay, as free-form attributes."""
    attributes.delete_attribute(session, name)
    return Response(status_code=204)
