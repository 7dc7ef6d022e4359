"""Migration 0011: email suppressions written with a Unicode IDN domain are rewritten
in punycode (the form `normalise_address` now gives), duplicates keep the older row, and a downgrade writes
Unicode back."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from ccm.channels.email import normalise_address
from ccm.database import make_engine, utcnow
from ccm.migrate import alembic_config, upgrade

ROWS = [
    ("email", "josé@bücher.example", "hard_bounce"),  # as the old normalisation kept it
    ("email", "anna@xn--bcher-kva.example", "hard_bounce"),  # listed in punycode already
    ("email", "anna@bücher.example", "complaint"),  # the same address, listed later: dropped
    ("email", "bob@☃.example", "manual"),  # no IDNA form: kept as it is
    ("sms", "+393471234501", "manual"),
]


def _suppressions(url: str) -> list[tuple[int, str, str, str]]:
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, channel, address, reason FROM suppressions ORDER BY id"))
        found = [(int(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]
    engine.dispose()
    return found


def test_email_suppressions_move_to_punycode_and_back(empty_url: str) -> None:
    upgrade(empty_url, "0005")
    engine = make_engine(empty_url)
    with engine.begin() as connection:
        for channel, address, reason in ROWS:
            connection.execute(
                text(
                    "INSERT INTO suppressions (channel, address, reason, detail, source, created_at)"
                    " VALUES (:channel, :address, :reason, '', 'test', :at)"
                ),
                {"channel": channel, "address": address, "reason": reason, "at": utcnow()},
            )
    engine.dispose()

    upgrade(empty_url, "0011")
    assert _suppressions(empty_url) == [
        (1, "email", "josé@xn--bcher-kva.example", "hard_bounce"),
        (2, "email", "anna@xn--bcher-kva.example", "hard_bounce"),
        (4, "email", "bob@☃.example", "manual"),
        (5, "sms", "+393471234501", "manual"),
    ]
    assert normalise_address("José@Bücher.example") == "josé@xn--bcher-kva.example"  # what lookups use

    command.downgrade(alembic_config(empty_url), "0005")
    assert [address for _, _, address, _ in _suppressions(empty_url)] == [
        "josé@bücher.example",
        "anna@bücher.example",
        "bob@☃.example",
        "+393471234501",
    ]
