"""The journey clock: real time unless a test clock file is set; production refuses the setting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from ccm.journeys.clock import journey_now
from ccm.settings import Settings

SECRETS: dict[str, Any] = {
    "secret_key": "s" * 40,
    "archive_signing_key": "k" * 44,
    "archive_master_key": "m" * 44,
}


def test_production_refuses_a_test_clock(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="CCM_TEST_CLOCK_FILE"):
        Settings(
            _env_file=None, env="production", data_dir=tmp_path, test_clock_file=tmp_path / "c", **SECRETS
        )
    Settings(_env_file=None, env="production", data_dir=tmp_path, **SECRETS)


def test_the_clock_file_sets_now(tmp_path: Path) -> None:
    path = tmp_path / "clock"
    settings = Settings(_env_file=None, env="test", data_dir=tmp_path, test_clock_file=path)
    assert abs(journey_now(settings) - datetime.now(UTC)) < timedelta(minutes=1), "no file yet: real time"
    path.write_text("2031-05-04T03:02:01+02:00")
    assert journey_now(settings) == datetime(2031, 5, 4, 1, 2, 1, tzinfo=UTC)
    path.write_text("2031-05-04T03:02:01")
    assert journey_now(settings) == datetime(2031, 5, 4, 3, 2, 1, tzinfo=UTC)
