"""The partitioning experiment runs end to end at a tiny size: it prints its table, names what the
partitioned schema gave up, and leaves no scratch database behind."""

from __future__ import annotations

import re
import subprocess
import sys

import psycopg
import pytest

from tests.ccm.conftest import BACKENDS, POSTGRES_ADMIN_URL

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif("postgresql" not in BACKENDS, reason="the experiment runs on PostgreSQL only"),
]
SCRIPT = "benchmarks/partitioning.py"


def test_prints_the_comparison_and_drops_its_databases() -> None:
    run = subprocess.run(
        [
            sys.executable,
            SCRIPT,
            "--rows",
            "200",
            "--months",
            "3",
            "--repeat",
            "3",
            "--server",
            POSTGRES_ADMIN_URL,
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "| measure | plain | partitioned by month | partitioned / plain |" in out
    for measure in ("worker claim", "message by id (get_message)", "customer timeline", "analytics report"):
        assert re.search(rf"\| {re.escape(measure)}.* ms \| [\d,.]+ ms \| [\d.]+x \|", out), measure
    assert "| VACUUM after it | " in out and "| not needed |" in out
    scanned = re.search(r"relations scanned by `WHERE id = …`: plain (\d+), partitioned (\d+)", out)
    assert scanned and scanned.groups() == ("1", "4")  # three months and the next one
    assert "archive_entries_message_id_fkey" in out
    names = re.search(r"scratch databases (\S+), (\S+) dropped", out)
    assert names is not None
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        left = admin.execute(
            "SELECT datname FROM pg_database WHERE datname = ANY(%s)", [list(names.groups())]
        )
        assert left.fetchall() == []
