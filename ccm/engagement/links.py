"""The signed URLs a customer meets: tracked clicks, the open pixel, unsubscribe, web version, documents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends

from ccm.database import utcnow
from ccm.dependencies import SettingsDep
from ccm.engagement.feedback import SCORES, SMS_PROMPT
from ccm.engagement.tokens import TokenPurpose, TokensDep, TokenSigner


@dataclass(frozen=True)
class EngagementLinks:
    base_url: str
    tokens: TokenSigner
    document_link_days: int = 90

    @property
    def token_key_id(self) -> str | None:
        """The id of the key the tokens are signed with (recorded with each message, for re-rendering)."""
        return self.tokens.key_id

    def click_url(self, message_id: str, url: str) -> str:
        """A tracked link, except the service's own unsubscribe, web-version, preference, confirm and survey
        links."""
        if url.startswith(tuple(f"{self.base_url}/{kind}/" for kind in "uvpcf")):
            return url
        return f"{self.base_url}/t/c/{self.tokens.sign(TokenPurpose.CLICK, {'m': message_id, 'u': url})}"

    def open_url(self, message_id: str) -> str:
        return f"{self.base_url}/t/o/{self.tokens.sign(TokenPurpose.OPEN, {'m': message_id})}"

    def unsubscribe_url(self, message_id: str, channel: str) -> str:
        token = self.tokens.sign(TokenPurpose.UNSUBSCRIBE, {"m": message_id, "ch": channel})
        return f"{self.base_url}/u/{token}"

    def confirm_url(self, customer_id: int, email: str) -> str:
        """Double opt-in's link: confirms marketing email to this address (and no other) of the customer."""
        token = self.tokens.sign(TokenPurpose.CONFIRM, {"c": customer_id, "e": email})
        return f"{self.base_url}/c/{token}"

    def survey_url(self, message_id: str, kind: str, score: int) -> str:
        """A survey answer's link (`ccm.engagement.feedback`): names the message, the question, the score."""
        token = self.tokens.sign(TokenPurpose.FEEDBACK, {"m": message_id, "k": kind, "s": score})
        return f"{self.base_url}/f/{token}"

    def survey(self, message_id: str, channel: str) -> dict[str, Any]:
        """A message's `survey` context value: per kind, an email's link per score (`{score, url}`, lowest
        first), or the range an SMS asks the customer to reply with (`0-10`)."""
        if channel == "sms":
            return dict(SMS_PROMPT)
        return {
            kind: [{"score": s, "url": self.survey_url(message_id, kind, s)} for s in scores]
            for kind, scores in SCORES.items()
        }

    def preferences_url(self, message_id: str) -> str:
        """The customer's preference centre, reached from a message they received."""
        return f"{self.base_url}/p/{self.tokens.sign(TokenPurpose.PREFERENCES, {'m': message_id})}"

    def view_url(self, message_id: str) -> str:
        """The email's "view in browser" page: the archived email, for as long as it is archived."""
        return f"{self.base_url}/v/{self.tokens.sign(TokenPurpose.WEB_VERSION, {'m': message_id})}"

    def document_url(self, message_id: str) -> str:
        """A link to the archived document that stops working `document_link_days` after it is issued."""
        expires = utcnow() + timedelta(days=self.document_link_days)
        token = self.tokens.sign(TokenPurpose.DOCUMENT, {"m": message_id, "exp": int(expires.timestamp())})
        return f"{self.base_url}/d/{token}"


def get_links(settings: SettingsDep, tokens: TokensDep) -> EngagementLinks:
    return EngagementLinks(settings.base_url, tokens, settings.document_link_days)


LinksDep = Annotated[EngagementLinks, Depends(get_links)]
