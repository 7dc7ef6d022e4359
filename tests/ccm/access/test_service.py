"""Revoking keys in the service: an id that exists nowhere is `key_not_found` on every backend."""

from __future__ import annotations

import pytest

from ccm.access.service import revoke_api_key
from ccm.database import make_engine, session_scope
from ccm.errors import NotFound


@pytest.mark.parametrize("key_id", [0, -1, 999_999, 2**31, 2**63])
def test_an_unknown_id_is_not_found(database_url: str, key_id: int) -> None:
    engine = make_engine(database_url)
    try:
        with pytest.raises(NotFound) as raised, session_scope(engine) as session:
            revoke_api_key(session, key_id)
        assert raised.value.code == "key_not_found"
    finally:
        engine.dispose()
