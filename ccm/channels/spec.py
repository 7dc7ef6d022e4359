"""What a channel is: one spec object per channel, and the registry every caller reads.

A channel (email, sms, pdf, or one a deployment adds) is a string key. Everything that differs by channel —
the template part's schema, how it renders and composes, who it goes to, who it comes from, which send rules
apply, how long it may retry, how previews and payloads are shown — is a field of its `ChannelSpec`, so no
other module needs an `if channel == ...` chain. Adding a channel is `register_channel(spec)`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel

from ccm.database import CHANNEL_KEY_LENGTH
from ccm.settings import Settings
from delivery import DkimKeyring

CHANNEL_KEY = re.compile(rf"^[a-z][a-z0-9_]{{0,{CHANNEL_KEY_LENGTH - 1}}}$")


class CustomerAddresses(Protocol):
    """The parts of a customer record a channel addresses a message with."""

    @property
    def external_id(self) -> str: ...

    @property
    def email(self) -> str | None: ...

    @property
    def phone(self) -> str | None: ...


class ComposableMessage(Protocol):
    """What composing needs of a message: an outbox row satisfies it, and so does a re-render's copy."""

    id: str
    channel: str
    category: str
    template_key: str
    recipient: str
    context: dict[str, Any]
    created_at: datetime


class TrackingLinks(Protocol):
    """The signed URLs composing puts into a message (`ccm.engagement.links.EngagementLinks`)."""

    @property
    def base_url(self) -> str: ...

    @property
    def token_key_id(self) -> str | None:
        """The id of the key tokens are signed with (None: tokens without a key id)."""
        ...

    def click_url(self, message_id: str, url: str) -> str: ...

    def open_url(self, message_id: str) -> str: ...

    def unsubscribe_url(self, message_id: str, channel: str) -> str: ...

    def preferences_url(self, message_id: str) -> str: ...

    def survey(self, message_id: str, channel: str) -> dict[str, Any]:
        """The `survey` context value: links per score (email) or the reply range (SMS)."""
        ...

    def view_url(self, message_id: str) -> str: ...


@dataclass(frozen=True)
class Tracking:
    """How links and opens are tracked for one message; None of these in previews."""

    link_rewriter: Callable[[str], str] | None = None
    open_pixel_url: str | None = None


@dataclass(frozen=True)
class RenderOptions:
    locale: str
    timezone: str
    assets_dir: Path
    pdf_variant: str | None = None
    created: datetime | None = None


@dataclass(frozen=True)
class ComposeContext:
    """The service-wide inputs of composing: settings, tracking links and the DKIM signer."""

    settings: Settings
    links: TrackingLinks
    dkim: DkimKeyring | None = None


@dataclass(frozen=True)
class Composed:
    payload: bytes
    content_type: str
    sender: str


@dataclass(frozen=True)
class Refusal:
    """Why a send may not go ahead: the `code` shows as a 422 code, a batch error or a campaign skip."""

    code: str
    message: str


Parts = Mapping[str, Any]
"""A template version's parts, by channel key (what `TemplateVersion.parts` stores)."""


def _always(_parts: Parts) -> bool:
    return True


def _no_consistency_rule(_parts: Parts) -> str | None:
    return None


def _same_address(address: str) -> str:
    return address.strip()


@dataclass(frozen=True)
class ChannelSpec:
    key: str
    label: str
    part_model: type[BaseModel]
    """The schema of this channel's part of a template version."""
    render: Callable[[Parts, dict[str, Any], RenderOptions, Tracking], Any]
    """Renders the part (preview and send); returns the renderer's result (RenderedEmail, ...)."""
    compose: Callable[[ComposableMessage, Parts, ComposeContext, RenderOptions], Composed]
    """The exact bytes handed to the provider (and archived)."""
    sources: Callable[[Parts], list[tuple[str, str]]]
    """Every Jinja source a send on this channel renders, named by where it sits (send-time checks)."""
    check: Callable[[Parts], None]
    """Compiles the part when a version is saved; raises `RenderError` with the field at fault."""
    recipient: Callable[[CustomerAddresses], str]
    """The customer's address on this channel ("" when they have none)."""
    sender: Callable[[Settings], str]
    default_provider: Callable[[Settings], str]
    """The provider name used when `CCM_ROUTES` names none for this channel."""
    deadline_setting: str
    """The `Settings` field holding how long a message on this channel may keep retrying."""
    preview_model: type[BaseModel]
    preview: Callable[[Any, Parts, str], BaseModel]
    """The API preview of a rendered part (rendered, parts, template key)."""
    content_type: str
    file_extension: str
    missing_recipient: Refusal | None = None
    """The refusal when the customer has no address here (None: every customer has one)."""
    suppressible: bool = False
    """Whether the suppression list (bounces, complaints) applies to this channel's addresses."""
    marketing_consent: bool = False
    """Whether marketing on this channel needs the customer not to have opted out."""
    normalise_address: Callable[[str], str] = _same_address
    source_field: str = ""
    """Where an error without a field of its own points inside the part (`text` of `sms.text`)."""
    sent_alone: Callable[[Parts], bool] = _always
    """Whether a send without explicit channels includes this part (a PDF an email attaches: no)."""
    in_campaigns_by_default: bool = True
    consistency: Callable[[Parts], str | None] = _no_consistency_rule
    """A rule between parts (an email attaching a PDF needs a PDF part): the problem, or None."""
    preview_view: str = "text"
    """The web partial (`ui/previews/<view>.html`) that shows a rendered preview."""
    payload_view: str = "text"
    """The web view (`ui/payloads/<view>.html` and its parser in `ccm.web.payloads`) of sent bytes."""
    form_fields: tuple[FormField, ...] = field(default_factory=tuple)
    """The authoring form's fields for this part, in order."""
    starter_files: tuple[tuple[str, str], ...] = ()
    """(part field, file name) pairs a template folder may hold (`templates/<key>/sms.txt`): the starter
    library's and `ccm templates pull`/`push`'s (`ccm.registry.as_code`)."""
    sender_settings: tuple[str, ...] = ()
    """The `Settings` fields `sender` reads the address from: a re-render puts the sender recorded at
    send time back into all of them (`ccm.channels.compose.recorded_settings`)."""

    def deadline_seconds(self, settings: Settings) -> int:
        return int(getattr(settings, self.deadline_setting))

    def error_field(self, inner: str | None = None) -> str:
        """`email.subject`, `sms.text`: where in a template an error sits."""
        where = inner or self.source_field
        return f"{self.key}.{where}" if where else self.key

    def field_of(self, error_field: str | None) -> str:
        """Where a render error sits: the part field it names (`pdf.typst`), else the source field."""
        return self.error_field(error_field if error_field in self.part_model.model_fields else None)


@dataclass(frozen=True)
class FormField:
    """One authoring-form field of a part: `name` in the part, shown as `kind` (line, text, flag, code)."""

    name: str
    label: str
    kind: str = "text"
    choices: tuple[str, ...] = ()
    """For `kind="choice"`: the part fields the body may go to (an email body as `mjml` or `html`)."""
    editor: str = "text"
    """The editor language the web UI highlights the field's source in: `html`, `css` or `text`."""


class UnknownChannel(KeyError):
    """A channel key no spec is registered for."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key

    def __str__(self) -> str:
        return f"unknown channel '{self.key}' (known: {', '.join(channel_keys())})"


_REGISTRY: dict[str, ChannelSpec] = {}


def register_channel(spec: ChannelSpec) -> ChannelSpec:
    """Make a channel known to every part of the service; a second spec for a key is a mistake."""
    if not CHANNEL_KEY.fullmatch(spec.key):
        raise ValueError(f"channel key {spec.key!r} must match {CHANNEL_KEY.pattern}")
    if spec.key in _REGISTRY:
        raise ValueError(f"channel {spec.key!r} is already registered")
    _REGISTRY[spec.key] = spec
    return spec


def unregister_channel(key: str) -> None:
    """Forget a channel (tests that register one of their own clean up with this)."""
    _REGISTRY.pop(key, None)


def get_channel(key: str) -> ChannelSpec:
    try:
        return _REGISTRY[key]
    except KeyError:
        raise UnknownChannel(key) from None


def is_channel(key: str) -> bool:
    return key in _REGISTRY


def channel_keys() -> list[str]:
    """Every registered channel, in registration order (email, sms, pdf, then any added)."""
    return list(_REGISTRY)


def all_channels() -> list[ChannelSpec]:
    return list(_REGISTRY.values())


def channels_of(parts: Parts) -> list[str]:
    """The channels a template version has parts for, in registry order."""
    return [key for key in _REGISTRY if key in parts]


def default_send_channels(parts: Parts) -> list[str]:
    """The channels a send without explicit `channels` goes out on."""
    return [key for key in channels_of(parts) if _REGISTRY[key].sent_alone(parts)]


def default_campaign_channels(parts: Parts) -> list[str]:
    """A campaign's channels when it names none: its message channels, else the first part it has."""
    chosen = [key for key in channels_of(parts) if _REGISTRY[key].in_campaigns_by_default]
    return chosen or sorted(parts)[:1]


def file_extension(channel: str) -> str:
    """The file extension of `channel`'s payloads; "bin" for a channel no longer registered."""
    return _REGISTRY[channel].file_extension if channel in _REGISTRY else "bin"


def deadline_seconds(settings: Settings, channel: str) -> int:
    """How long a message on `channel` may keep retrying before it fails (codes go stale fast)."""
    return get_channel(channel).deadline_seconds(settings)
