"""The `ccm` command as a newcomer runs it: migrate, seed twice, create keys, process the outbox."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from ccm.customers.models import Customer
from ccm.database import make_engine
from ccm.registry.models import Template

pytestmark = pytest.mark.slow


def ccm(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCM_")}
    env.update({"CCM_DATA_DIR": str(data_dir), "CCM_ENV": "development"})
    return subprocess.run(
        [sys.executable, "-m", "ccm.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_migrate_seed_twice_keys_and_worker(tmp_path: Path) -> None:
    assert ccm(tmp_path, "migrate").returncode == 0
    first = ccm(tmp_path, "seed-demo")
    assert first.returncode == 0, first.stderr
    admin_key = first.stdout.strip().splitlines()[-1]
    assert admin_key.startswith("ccm_")
    second = ccm(tmp_path, "seed-demo")
    assert second.returncode == 0
    assert second.stdout.strip().splitlines()[-1] == admin_key  # same demo key, nothing duplicated

    engine = make_engine(f"sqlite:///{tmp_path / 'ccm.db'}")
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Customer)).one() == 20
        assert session.exec(select(func.count()).select_from(Template)).one() >= 4
        locales = set(session.exec(select(Customer.locale)).all())
        phones = session.exec(
            select(func.count()).select_from(Customer).where(Customer.phone.is_not(None))
        ).one()  # type: ignore[union-attr]
    engine.dispose()
    assert locales == {"it", "en", "de"}
    assert 0 < phones < 20

    created = ccm(tmp_path, "keys", "create", "--role", "sender")
    assert created.returncode == 0
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("ccm_") and key != admin_key
    assert key not in (tmp_path / "ccm.db").read_bytes().decode("latin-1")  # only the hash is stored

    refused = ccm(tmp_path, "keys", "create", "--role", "root")
    assert refused.returncode == 2

    worker = ccm(tmp_path, "worker", "--once")
    assert worker.returncode == 0 and "processed 0 messages" in worker.stdout


def test_production_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    env_run = subprocess.run(
        [sys.executable, "-m", "ccm.cli", "migrate"],
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("CCM_")},
            "CCM_ENV": "production",
            "CCM_DATA_DIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert env_run.returncode == 2
    assert "CCM_SECRET_KEY" in env_run.stderr
