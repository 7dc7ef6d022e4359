"""`ccm keys list` and `ccm keys revoke` as an operator runs them: list, revoke, revoke again, a wrong id."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ccm.test_cli import ccm

pytestmark = pytest.mark.slow


def _listed(data_dir: Path) -> list[list[str]]:
    listing = ccm(data_dir, "keys", "list")
    assert listing.returncode == 0, listing.stderr
    return [line.split("\t") for line in listing.stdout.splitlines()]


def test_list_and_revoke_keys(tmp_path: Path) -> None:
    assert ccm(tmp_path, "migrate").returncode == 0
    raw = ccm(tmp_path, "keys", "create", "--role", "sender", "--name", "billing run").stdout.splitlines()[-1]
    assert ccm(tmp_path, "keys", "create", "--role", "admin").returncode == 0

    rows = _listed(tmp_path)
    assert [(r[0], r[1], r[2], r[3], r[5]) for r in rows] == [
        ("1", "sender", "billing run", raw[:8], "-"),
        ("2", "admin", "admin key", rows[1][3], "-"),
    ]
    assert all(len(r) == 7 and r[4] and r[6] == "-" and raw not in "\t".join(r) for r in rows)  # no owners

    revoked = ccm(tmp_path, "keys", "revoke", "1")
    assert revoked.returncode == 0, revoked.stderr
    assert "key 1 'billing run' revoked at" in revoked.stdout
    after = _listed(tmp_path)
    first = after[0][5]
    assert first != "-" and after[1][5] == "-"

    again = ccm(tmp_path, "keys", "revoke", "1")
    assert again.returncode == 0 and _listed(tmp_path)[0][5] == first  # harmless, the first time kept

    unknown = ccm(tmp_path, "keys", "revoke", "99")
    assert unknown.returncode == 1
    assert "API key 99 not found" in unknown.stderr
    assert ccm(tmp_path, "keys", "revoke", "one").returncode == 2  # not an id: a usage error
