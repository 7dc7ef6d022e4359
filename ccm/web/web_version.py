"""The "view in browser" page of an email (`/v/{token}`, the `view_in_browser_url` variable).

It serves the HTML part of the archived email, so the customer sees exactly what they were sent, under a
policy that sandboxes it and runs no script (`sandbox; script-src 'none'`). It records no open: the open
pixel is taken out, since reading the web version is not opening the email. Like a document link it is
archive data: gone (410) once the customer is erased or the email purged, and every read is audited.
"""

from __future__ import annotations

import email
import html
import re
from email import policy

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from archive import ObjectNotFound
from ccm.archiving.crypto import KeyDestroyed
from ccm.archiving.service import find_entry, read_payload
from ccm.archiving.vault import VaultDep
from ccm.communications.models import Message
from ccm.compliance.audit import log_access
from ccm.compliance.erasure import is_erased
from ccm.customers.models import Customer
from ccm.dependencies import SessionDep, SettingsDep
from ccm.engagement.tokens import TokenPurpose, TokensDep
from ccm.errors import Gone, NotFound, ServiceUnavailable
from ccm.web.public import NO_STORE, Token, _message_for
from ccm.web.public_text import wording_for
from ccm.web.rendering import render_page

router = APIRouter(tags=["engagement"])
EMAIL = "message/rfc822"
POLICY = "sandbox; script-src 'none'"
READER = "customer-web-version"
"""The audit log's actor for an email read through its web-version link."""
HEADERS = {
    **NO_STORE,
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "no-referrer",
}


@router.get("/v/{token}", response_class=HTMLResponse, responses={404: {}, 410: {}})
def view_in_browser(
    token: Token,
    request: Request,
    tokens: TokensDep,
    vault: VaultDep,
    session: SessionDep,
    settings: SettingsDep,
) -> HTMLResponse:
    """The archived email as its customer received it; a page saying it is gone once it is (410)."""
    message, _ = _message_for(tokens, session, TokenPurpose.WEB_VERSION, token)
    try:
        data = _archived_email(message, vault, session)
    except Gone:
        customer = session.get(Customer, message.customer_id)
        context = {"reason": "document.gone", "t": wording_for(customer.locale if customer else None)}
        return render_page(
            request, "public/document_unavailable.html", context, status_code=410, headers=NO_STORE
        )
    log_access(
        session, None, "web_version", {"template": message.template_key}, [message.id], anonymous=READER
    )
    return HTMLResponse(without_open_pixel(html_part(data), settings.base_url), headers=HEADERS)


def _archived_email(message: Message, vault: VaultDep, session: SessionDep) -> bytes:
    if is_erased(session, message.customer_id):
        raise Gone("this email is no longer available")
    entry = find_entry(session, message.id)
    if entry is None or entry.content_type != EMAIL:
        raise NotFound("link not found", code="link_not_found")
    try:
        return read_payload(vault, entry)
    except (KeyDestroyed, ObjectNotFound) as error:  # shredded or purged at the end of its retention
        raise Gone("this email is no longer available") from error
    except Exception as error:
        raise ServiceUnavailable("email temporarily unavailable") from error


def html_part(data: bytes) -> str:
    """The HTML body of an archived .eml (its text part, escaped, when it has none)."""
    parsed = email.message_from_bytes(data, policy=policy.default)
    body = parsed.get_body(("html", "plain")) if isinstance(parsed, email.message.EmailMessage) else None
    if body is None:
        raise NotFound("link not found", code="link_not_found")
    content = str(body.get_content())
    if body.get_content_subtype() == "html":
        return content
    return f"<pre>{html.escape(content)}</pre>"


def without_open_pixel(html: str, base_url: str) -> str:
    """The email minus the open pixel `renderers.html_post.add_open_pixel` put in, so reading it here is
    never counted as opening it."""
    pixel = re.compile(rf'<img src="{re.escape(base_url)}/t/o/[^"]*" width="1" height="1" alt=""[^>]*>')
    return pixel.sub("", html)
