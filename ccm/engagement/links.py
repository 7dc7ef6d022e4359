"""The signed URLs a customer meets: tracked clicks, the open pixel, unsubscribe and document links."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from ccm.dependencies import SettingsDep
from ccm.engagement.tokens import TokenPurpose, TokensDep, TokenSigner


@dataclass(frozen=True)
class EngagementLinks:
    base_url: str
    tokens: TokenSigner

    def click_url(self, message_id: str, url: str) -> str:
        """A tracked link, except for the service's own unsubscribe links, which stay direct."""
        if url.startswith(f"{self.base_url}/u/"):
            return url
        return f"{self.base_url}/t/c/{self.tokens.sign(TokenPurpose.CLICK, {'m': message_id, 'u': url})}"

    def open_url(self, message_id: str) -> str:
        return f"{self.base_url}/t/o/{self.tokens.sign(TokenPurpose.OPEN, {'m': message_id})}"

    def unsubscribe_url(self, message_id: str, channel: str) -> str:
        token = self.tokens.sign(TokenPurpose.UNSUBSCRIBE, {"m": message_id, "ch": channel})
        return f"{self.base_url}/u/{token}"

    def document_url(self, message_id: str) -> str:
        return f"{self.base_url}/d/{self.tokens.sign(TokenPurpose.DOCUMENT, {'m': message_id})}"


def get_links(settings: SettingsDep, tokens: TokensDep) -> EngagementLinks:
    return EngagementLinks(settings.base_url, tokens)


LinksDep = Annotated[EngagementLinks, Depends(get_links)]
