"""The archive entry page over plain HTTP: where the object really is, and its events as readable rows."""

from __future__ import annotations

import html
from pathlib import Path

import pytest

from archive import FilesystemStore
from ccm.access.models import Role
from ccm.web.views.compliance import detail_rows, stored_location
from tests.ccm.compliance.conftest import entry
from tests.ccm.conftest import Service
from tests.ccm.web.conftest import sign_in


@pytest.mark.parametrize(
    ("store_url", "location"),
    [
        ("s3://acme-archive/prod/", "s3://acme-archive/prod/messages/2026/11/m-1"),
        ("s3://acme-archive/", "s3://acme-archive/messages/2026/11/m-1"),
        ("file:///srv/ccm/archive", "/srv/ccm/archive/messages/2026/11/m-1"),
        ("file:///srv/ccm%20data/archive", "/srv/ccm data/archive/messages/2026/11/m-1"),
    ],
)
def test_stored_location_joins_the_store_and_the_key(store_url: str, location: str) -> None:
    assert stored_location(store_url, "messages/2026/11/m-1") == location


def test_event_detail_becomes_rows_in_the_writers_order() -> None:
    detail = {
        "provider": "smtp",
        "bounce": {"kind": "hard", "code": 550},
        "ok": True,
        "gone": None,
        "ids": [1],
    }
    assert detail_rows(detail) == [
        ("provider", "smtp"),
        ("bounce.kind", "hard"),
        ("bounce.code", "550"),
        ("ok", "true"),
        ("gone", "—"),
        ("ids", "[1]"),
    ]
    assert detail_rows({}) == [] and detail_rows({"empty": {}}) == [("empty", "{}")]


def test_archive_page_shows_the_real_path_and_events_as_rows(service: Service, otps: list[str]) -> None:
    store = service.runtime.archive.store
    assert isinstance(store, FilesystemStore)
    archived = entry(service, otps[0])
    client = service.client
    sign_in(client, service.keys[Role.COMPLIANCE])

    page = client.get(f"/ui/archive/{otps[0]}")

    assert page.status_code == 200
    text = html.unescape(page.text)
    location = store.root / archived.object_key
    assert Path(location).is_file()
    assert f'<code id="location">{location}</code>' in text
    assert archived.store_url + archived.object_key not in text  # the old run-together address
    assert '<th scope="row">provider</th>' in text
    assert '{"' not in text.split('id="events"', 1)[1]  # no JSON dump of a detail
    for event in ("queued", "archived", "sent"):
        assert f'<span class="status status-{event}">{event}</span>' in text
