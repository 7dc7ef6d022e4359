"""An engine on the session's migrated database, emptied after each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from ccm.database import make_engine
from tests.ccm.conftest import empty_database


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()
    empty_database(database_url)
