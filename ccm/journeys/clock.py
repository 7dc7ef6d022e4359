"""The journey engine's now: the real time, or, in tests, the time written in `CCM_TEST_CLOCK_FILE`.

Settings validation refuses the file in production, so only a test can move a journey past a wait.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ccm.database import utcnow
from ccm.settings import Settings


def journey_now(settings: Settings) -> datetime:
    """Now for journeys: the test clock's time when one is set and written, else the real time."""
    path = settings.test_clock_file
    if path is None or not path.exists():
        return utcnow()
    text = path.read_text().strip()
    if not text:
        return utcnow()
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
