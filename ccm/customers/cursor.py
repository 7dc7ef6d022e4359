"""Opaque page cursors for customer lists: the last external id shown, base64url-encoded.

Opaque so clients pass it back rather than build it; checked on the way in so a cursor that was never issued
is a 422 naming `cursor`, not a query with a value the database refuses.
"""

from __future__ import annotations

import base64
import binascii
import re

from ccm.errors import Unprocessable

MAX_CURSOR = 400
_EXTERNAL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@+\-]{0,199}")


def encode_cursor(external_id: str) -> str:
    """The cursor a page hands out for the customers after `external_id`."""
    return base64.urlsafe_b64encode(external_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The external id a cursor names; 422 for anything `encode_cursor` never produced."""
    external_id = _decoded(cursor) if len(cursor) <= MAX_CURSOR else None
    if external_id is None or not _EXTERNAL_ID.fullmatch(external_id):
        raise Unprocessable(
            "cursor is not one this API issued: pass back a next_cursor unchanged",
            field="cursor",
            code="invalid_cursor",
        )
    return external_id


def _decoded(cursor: str) -> str | None:
    try:
        padded = cursor.encode("ascii") + b"=" * (-len(cursor) % 4)
        raw = base64.b64decode(padded, altchars=b"-_", validate=True)
        return raw.decode("ascii")
    except (UnicodeError, binascii.Error, ValueError):
        return None
