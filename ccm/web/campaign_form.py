"""The "New campaign" form: flat inputs as a browser posts them, and back into the API's `CampaignCreate`.

The form only translates (JSON text into objects, a date-time and a time zone into an instant, empty inputs
into absent fields); every rule about what a campaign may be stays with `CampaignCreate` and
`ccm.campaigns.service.create_campaign`, so the page and `POST /v1/campaigns` refuse the same things. Errors
are mapped back to the input they concern. Kept free of FastAPI, like `ccm.web.forms`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import ValidationError

from ccm.campaigns.schemas import CampaignCreate
from ccm.customers.segment_schemas import PreviewRequest
from ccm.errors import ApiError
from ccm.web.forms import FormErrors

Model = TypeVar("Model", CampaignCreate, PreviewRequest)
SEGMENT_KINDS = ("all", "saved", "rule")
SCHEDULES = ("now", "at", "local")
FIELD_INPUTS = frozenset(CampaignCreate.model_fields)
"""The form names each input (or group of inputs) after the API field it fills, so a problem with a field
(its first step: `segment.all[1].op` -> `segment`) is shown beside the input of that name."""


@cache
def time_zones() -> list[str]:
    """The zones a send time may be given in: UTC first, then every IANA zone this machine knows."""
    return ["UTC", *sorted(zone for zone in available_timezones() if zone != "UTC")]


def input_for(api_field: str | None) -> str | None:
    """The input an API error's `field` concerns (`segment.all[1].op` -> `segment`), if any."""
    if not api_field:
        return None
    head = re.split(r"[.\[]", api_field, maxsplit=1)[0]
    return head if head in FIELD_INPUTS else None


def error_message(error: ApiError) -> str:
    """The service's message, prefixed with the path it names when it does not say it already."""
    if error.field and error.field not in error.message:
        return f"{error.field}: {error.message}"
    return error.message


def _problem(name: str, message: str) -> FormErrors:
    return FormErrors([message], {name: [message]})


def parse_rule(text: str) -> dict[str, Any]:
    """The typed rule as a JSON object, or a form error naming where it stopped being JSON."""
    try:
        rule = json.loads(text or "{}")
    except json.JSONDecodeError as error:
        where = f"line {error.lineno} column {error.colno}"
        raise _problem("segment", f"segment: not JSON ({error.msg}, {where})") from None
    if not isinstance(rule, dict):
        raise _problem("segment", "segment: must be a JSON object, such as {}")
    return rule


@dataclass
class CampaignForm:
    """What was typed, exactly, so a refused form is shown again as it was."""

    name: str = ""
    template: str = ""
    channels: list[str] = field(default_factory=list)
    segment_kind: str = "all"
    segment_key: str = ""
    segment: str = "{}"
    data: str = "{}"
    schedule: str = "now"
    send_at: str = ""
    send_at_zone: str = "UTC"
    local_time: str = ""
    local_date: str = ""
    quiet_start: str = ""
    quiet_end: str = ""
    cap_messages: str = ""
    cap_hours: str = ""
    throttle_per_minute: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)
    """Input (or group) -> why the last submission was refused there."""

    @classmethod
    def from_submitted(cls, submitted: Mapping[str, Any], channels: Sequence[Any] = ()) -> CampaignForm:
        """The posted inputs as typed; `channels` are the ticked boxes (a name posted once per box)."""

        def text(name: str, default: str = "") -> str:
            return str(submitted.get(name, default)).replace("\r\n", "\n").strip()

        return cls(
            name=text("name"),
            template=text("template"),
            channels=[str(value) for value in channels],
            segment_kind=_one_of(text("segment_kind"), SEGMENT_KINDS),
            segment_key=text("segment_key"),
            segment=text("segment", "{}"),
            data=text("data", "{}"),
            schedule=_one_of(text("schedule"), SCHEDULES),
            send_at=text("send_at"),
            send_at_zone=text("send_at_zone", "UTC") or "UTC",
            local_time=text("local_time"),
            local_date=text("local_date"),
            quiet_start=text("quiet_start"),
            quiet_end=text("quiet_end"),
            cap_messages=text("cap_messages"),
            cap_hours=text("cap_hours"),
            throttle_per_minute=text("throttle_per_minute"),
        )

    def with_errors(self, error: FormErrors | ApiError) -> tuple[CampaignForm, list[str]]:
        """The form as submitted with each problem beside its input, and every problem's message."""
        if isinstance(error, FormErrors):
            return replace(self, errors=error.inputs), error.messages
        message = error_message(error)
        name = input_for(error.field)
        return replace(self, errors={name: [message]} if name else {}), [message]

    def preview_request(self) -> PreviewRequest:
        """The segment chosen, as `POST /v1/segments:preview` takes it (every customer: the rule `{}`)."""
        if self.segment_kind == "saved":
            return _validated(PreviewRequest, {"segment_key": self._segment_key()})
        rule = parse_rule(self.segment) if self.segment_kind == "rule" else {}
        return _validated(PreviewRequest, {"rule": rule}, prefix="segment")

    def request(self) -> CampaignCreate:
        """The API request this form stands for; FormErrors for what cannot even be put into one."""
        body: dict[str, Any] = {"name": self.name, "template": self.template, "data": _data(self.data)}
        if self.channels:
            body["channels"] = self.channels
        body.update(self._segment_fields())
        body.update(self._schedule_fields())
        body.update(self._limits())
        return _validated(CampaignCreate, body)

    def _segment_key(self) -> str:
        if not self.segment_key:
            raise _problem("segment_key", "segment_key: choose a saved segment")
        return self.segment_key

    def _segment_fields(self) -> dict[str, Any]:
        if self.segment_kind == "saved":
            return {"segment_key": self._segment_key()}
        if self.segment_kind == "rule":
            return {"segment": parse_rule(self.segment)}
        return {}

    def _schedule_fields(self) -> dict[str, Any]:
        if self.schedule == "at":
            return {"send_at": self._send_at()}
        if self.schedule == "local":
            if not (self.local_time or self.local_date):
                raise _problem("local_time", "local_time: give the local time and the day to send at")
            return _present({"local_time": self.local_time, "local_date": self.local_date})
        return {}

    def _send_at(self) -> datetime:
        """The date-time typed, read in the zone chosen beside it."""
        try:
            zone = ZoneInfo(self.send_at_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise _problem("send_at", f"send_at: unknown time zone '{self.send_at_zone}'") from None
        try:
            moment = datetime.fromisoformat(self.send_at)
        except ValueError:
            raise _problem("send_at", "send_at: give a date and time, such as 2026-12-01T09:30") from None
        return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment

    def _limits(self) -> dict[str, Any]:
        """Quiet hours, cap and throttle: an empty group is absent; a half-filled one is left for
        `CampaignCreate` to refuse, naming the part missing."""
        quiet = _present({"start": self.quiet_start, "end": self.quiet_end})
        cap = _present({"max_messages": self.cap_messages, "period_hours": self.cap_hours})
        limits = {"quiet_hours": quiet, "frequency_cap": cap, "throttle_per_minute": self.throttle_per_minute}
        return {name: value for name, value in limits.items() if value}


def _one_of(value: str, choices: tuple[str, ...]) -> str:
    return value if value in choices else choices[0]


def _present(values: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in values.items() if value}


def _data(text: str) -> Any:
    try:
        return json.loads(text or "{}")
    except json.JSONDecodeError as error:
        where = f"line {error.lineno} column {error.colno}"
        raise _problem("data", f"data: not JSON ({error.msg}, {where})") from None


def _validated(model: type[Model], body: dict[str, Any], *, prefix: str = "") -> Model:
    """The model, or FormErrors with each problem beside its input (`prefix` replaces a preview's `rule`)."""
    try:
        return model.model_validate(body)
    except ValidationError as error:
        messages: list[str] = []
        inputs: dict[str, list[str]] = {}
        for problem in error.errors():
            steps = [str(step) for step in problem.get("loc", ())]
            if prefix and steps[:1] == ["rule"]:
                steps[0] = prefix
            where = ".".join(steps)
            text = str(problem.get("msg", "invalid")).removeprefix("Value error, ")
            message = f"{where}: {text}" if where else text
            messages.append(message)
            inputs.setdefault(input_for(where) or "form", []).append(message)
        raise FormErrors(messages, inputs) from None
