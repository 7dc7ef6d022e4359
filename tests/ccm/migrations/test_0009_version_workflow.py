"""Migration 0009: of each template's published versions only the newest stays live (the others become
superseded), authors default to `system`, one live version per template is enforced, and a downgrade
turns superseded and in-review versions back into the two states there were."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from ccm.database import make_engine, utcnow
from ccm.migrate import alembic_config, upgrade

VERSIONS = [(1, 1, "published"), (1, 2, "published"), (1, 3, "draft"), (2, 1, "published")]
"""(template id, number, status) as 0007 left them: template 1 was published twice."""


def _versions(url: str, columns: str = "template_id, number, status") -> list[tuple[object, ...]]:
    engine = make_engine(url)
    with engine.connect() as connection:
        found = [
            tuple(row)
            for row in connection.execute(text(f"SELECT {columns} FROM template_versions ORDER BY id"))
        ]
    engine.dispose()
    return found


def test_only_the_newest_published_version_stays_live_and_back(empty_url: str) -> None:
    upgrade(empty_url, "0007")
    engine = make_engine(empty_url)
    with engine.begin() as connection:
        for template_id in (1, 2):
            connection.execute(
                text(
                    "INSERT INTO templates (id, key, name, category, description, created_at, updated_at)"
                    " VALUES (:id, :key, 'T', 'marketing', '', :now, :now)"
                ),
                {"id": template_id, "key": f"t{template_id}", "now": utcnow()},
            )
        for template_id, number, status in VERSIONS:
            connection.execute(
                text(
                    "INSERT INTO template_versions (template_id, number, status, parts, sample_data,"
                    " checksum, created_at) VALUES (:t, :n, :s, '{}', '{}', 'x', :now)"
                ),
                {"t": template_id, "n": number, "s": status, "now": utcnow()},
            )

    upgrade(empty_url, "0009")

    assert _versions(empty_url, "template_id, number, status, created_by") == [
        (1, 1, "superseded", "system"),
        (1, 2, "published", "system"),
        (1, 3, "draft", "system"),
        (2, 1, "published", "system"),
    ]
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text("UPDATE template_versions SET status = 'published' WHERE number = 3"))
    with engine.begin() as connection:
        connection.execute(text("UPDATE template_versions SET status = 'submitted' WHERE number = 3"))

    command.downgrade(alembic_config(empty_url), "0007")

    assert _versions(empty_url) == [
        (1, 1, "published"),
        (1, 2, "published"),
        (1, 3, "draft"),
        (2, 1, "published"),
    ]
    engine.dispose()
