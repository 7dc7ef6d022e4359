"""The everyday address (`anna.rossi+news@example.com`) decided without email-validator's general parser, with
the very result pydantic's `EmailStr` gives it.

An import validates a million addresses; the general parser walks each one character by character (quotes,
display names, Unicode normalisation), which is a third of a row's validation. For an ASCII dot-atom local
part of at most 64 characters and an ASCII domain, that walk is an identity: pydantic's wrapper strips
nothing and finds no display name, the split is at the only @-sign, the local part matches the library's
`DOT_ATOM_TEXT` and is returned as it is (lower-cased if it names a case-insensitive mailbox). What is left
is the domain check — made here by the same function the library calls (`email_domains`' cache of it) — and
the library's length rule. Anything else returns None and takes the full validator, so its errors are the
library's own. `tests/ccm/customers/test_plain_emails.py` runs both over tricky addresses and requires the
same decision and the same stored form.
"""

from __future__ import annotations

import re

import email_validator
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES, EMAIL_MAX_LENGTH

from ccm.customers import email_domains

PLAIN = re.compile(r"([A-Za-z0-9_+\-]+(?:\.[A-Za-z0-9_+\-]+)*)@([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)")
"""A subset of the library's dot-atom local part, then a dotted ASCII hostname (checked by the library)."""
LOCAL_LIMIT = 64
"""Beyond this the library's `strict` mode refuses the local part: such rare addresses take the full path."""


def plain_email(value: str) -> str | None:
    """What `EmailStr` normalises `value` to, or None when `value` is not the plain case (or is refused)."""
    matched = PLAIN.fullmatch(value)
    if matched is None or len(value) > EMAIL_MAX_LENGTH:
        return None
    local, domain = matched.groups()
    if len(local) > LOCAL_LIMIT:
        return None
    try:
        checked = email_domains.cached_domain_check(
            domain,
            test_environment=email_validator.TEST_ENVIRONMENT,
            globally_deliverable=email_validator.GLOBALLY_DELIVERABLE,
        )
    except email_validator.EmailNotValidError:
        return None
    if local.lower() in CASE_INSENSITIVE_MAILBOX_NAMES:
        local = local.lower()
    normalized = f"{local}@{checked['domain']}"
    longest = max(len(normalized.encode()), len(local) + 1 + len(checked["ascii_domain"]))
    return normalized if longest <= EMAIL_MAX_LENGTH else None
