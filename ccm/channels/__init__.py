"""One home per channel: the specs of email, SMS and PDF, registered on import (see `spec.py`)."""

from ccm.channels import email, pdf, sms
from ccm.channels.spec import (
    ChannelSpec,
    ComposeContext,
    Composed,
    FormField,
    Refusal,
    RenderOptions,
    Tracking,
    UnknownChannel,
    all_channels,
    channel_keys,
    channels_of,
    deadline_seconds,
    default_campaign_channels,
    default_send_channels,
    file_extension,
    get_channel,
    is_channel,
    register_channel,
    unregister_channel,
)

for _spec in (email.SPEC, sms.SPEC, pdf.SPEC):
    if not is_channel(_spec.key):
        register_channel(_spec)

__all__ = [
    "ChannelSpec",
    "ComposeContext",
    "Composed",
    "FormField",
    "Refusal",
    "RenderOptions",
    "Tracking",
    "UnknownChannel",
    "all_channels",
    "channel_keys",
    "channels_of",
    "deadline_seconds",
    "default_campaign_channels",
    "default_send_channels",
    "file_extension",
    "get_channel",
    "is_channel",
    "register_channel",
    "unregister_channel",
]
