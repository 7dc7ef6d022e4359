"""A template version's parts as the API takes them: one object per registered channel, each checked
against its channel's part schema, so a channel registered later is accepted without touching this file."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    StringConstraints,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    create_model,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from ccm.channels.spec import channel_keys, get_channel, is_channel
from ccm.database import CHANNEL_KEY_LENGTH


def _unknown_channel(key: object) -> PydanticCustomError:
    return PydanticCustomError(
        "unknown_channel",
        "unknown channel {channel} (known: {known})",
        {"channel": repr(key), "known": ", ".join(channel_keys())},
    )


@lru_cache(maxsize=8)
def _parts_model(keys: tuple[str, ...]) -> type[BaseModel]:
    fields: dict[str, Any] = {key: (get_channel(key).part_model | None, None) for key in keys}
    return create_model("TemplateParts", __config__=ConfigDict(extra="forbid"), **fields)


def validate_parts(value: Any) -> dict[str, dict[str, Any]]:
    """The parts, each validated by its channel's schema (errors keep their path: `parts.email.subject`)."""
    if not isinstance(value, dict):
        raise PydanticCustomError("invalid", "parts must be an object with one part per channel")
    unknown = [key for key in value if not isinstance(key, str) or not is_channel(key)]
    if unknown:
        raise _unknown_channel(unknown[0])
    model = _parts_model(tuple(channel_keys())).model_validate(value)
    parts: dict[str, dict[str, Any]] = model.model_dump(exclude_none=True)
    if not parts:
        raise PydanticCustomError(
            "invalid", "a template needs at least one part: {known}", {"known": ", ".join(channel_keys())}
        )
    for key in parts:
        problem = get_channel(key).consistency(parts)
        if problem:
            raise PydanticCustomError("invalid", problem)
    return parts


class _TemplateParts:
    """Pydantic glue: validation by `validate_parts`, and a JSON schema built from the registry when the
    OpenAPI document is generated (so it lists every registered channel's part)."""

    @classmethod
    def __get_pydantic_core_schema__(cls, _source: Any, _handler: Any) -> core_schema.CoreSchema:
        def wrap(value: Any, _next: ValidatorFunctionWrapHandler) -> dict[str, dict[str, Any]]:
            return validate_parts(value)

        return core_schema.no_info_wrap_validator_function(wrap, core_schema.dict_schema())

    @classmethod
    def __get_pydantic_json_schema__(
        cls, _schema: core_schema.CoreSchema, _handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        properties = {key: get_channel(key).part_model.model_json_schema() for key in channel_keys()}
        return {
            "type": "object",
            "description": "One part per channel; at least one.",
            "properties": properties,
            "additionalProperties": False,
            "minProperties": 1,
        }


TemplateParts = Annotated[dict[str, dict[str, Any]], _TemplateParts]
"""A version's parts by channel key, validated against the registered channel specs."""


def _registered(value: str) -> str:
    if not is_channel(value):
        raise _unknown_channel(value)
    return value


def _distinct_channels(value: list[str]) -> list[str]:
    if len(set(value)) != len(value):
        raise ValueError("channels must not repeat")
    if len(value) > len(channel_keys()):
        raise ValueError(f"at most {len(channel_keys())} channels (one per registered channel)")
    return value


ChannelKey = Annotated[
    str,
    StringConstraints(min_length=1, max_length=CHANNEL_KEY_LENGTH),
    AfterValidator(_registered),
    WithJsonSchema({"type": "string", "description": "a registered channel: email, sms, pdf, ..."}),
]
"""A channel named in a request: a string checked against the registered specs (422 `unknown_channel`)."""

ChannelList = Annotated[list[ChannelKey], Field(min_length=1), AfterValidator(_distinct_channels)]
"""Channels for one send or campaign: at least one, none twice, at most one per registered channel."""
