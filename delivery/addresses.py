"""Email addresses as the wire carries them: an IDN domain in punycode, and when a message needs SMTPUTF8.

The one home of these rules for every email provider (SMTP, SES) and for the service, which compares
suppressed addresses in the same form. Domains use IDNA 2008 (UTS 46), as the renderers do, not Python's
`idna` codec, which is IDNA 2003 and would send `straße.de` to `strasse.de`, another domain.
"""

from __future__ import annotations

from email.utils import parseaddr

import idna


class InvalidDomain(ValueError):
    """A non-ASCII domain with no IDNA 2008 form (`☃.example`): no message can ever reach it."""


def ascii_domain(domain: str) -> str:
    """The domain as the DNS knows it: punycode A-labels for an IDN (lower-cased); ASCII kept as written."""
    if domain.isascii():
        return domain
    try:
        return str(idna.encode(domain, uts46=True).decode("ascii"))
    except idna.IDNAError as exc:
        raise InvalidDomain(f"{domain!r} is not a valid internationalised domain ({exc})") from None


def envelope_address(address: str) -> str:
    """The bare address (display name dropped), its domain in punycode; `InvalidDomain` if it has none."""
    addr = parseaddr(address)[1] or address
    local, at, domain = addr.rpartition("@")
    return f"{local}@{ascii_domain(domain)}" if at else addr


def needs_smtputf8(payload: bytes, sender: str, recipient: str) -> bool:
    """A non-ASCII local part in the envelope addresses, or UTF-8 in the header section (RFC 6532)."""
    headers = payload.split(b"\r\n\r\n", 1)[0]
    return not (sender + recipient).isascii() or not headers.isascii()
