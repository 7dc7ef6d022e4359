"""Declared attribute shapes on the wire (`/v1/customer-attributes`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ccm.customers.attribute_types import AttributeType

ATTRIBUTE_NAME = r"^[A-Za-z_][A-Za-z0-9_\-]{0,99}$"
RESERVED = frozenset({"external_id", "email", "phone", "locale", "timezone"})
"""Names an import's CSV header gives to the record's own fields, so no attribute can be called so."""

AttributeName = Annotated[str, Field(min_length=1, max_length=100, pattern=ATTRIBUTE_NAME)]
EnumValue = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")]


class AttributeDeclaration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: AttributeName
    type: AttributeType
    values: Annotated[list[EnumValue], Field(max_length=200)] | None = Field(
        default=None, description="the allowed values of an enum (and only of an enum)"
    )
    description: Annotated[str, Field(max_length=1000, pattern=r"^[^\x00]*$")] = ""

    @model_validator(mode="after")
    def _values_fit_type(self) -> AttributeDeclaration:
        if self.name in RESERVED:
            raise ValueError(f"'{self.name}' is a customer field, not an attribute")
        if self.type == AttributeType.ENUM:
            if not self.values:
                raise ValueError("an enum needs its values")
            if len(set(self.values)) != len(self.values):
                raise ValueError("enum values must be distinct")
        elif self.values is not None:
            raise ValueError("only an enum takes values")
        return self


class AttributeOut(BaseModel):
    name: str
    type: AttributeType
    values: list[str] | None
    description: str
    created_at: datetime


class AttributeList(BaseModel):
    attributes: list[AttributeOut]
