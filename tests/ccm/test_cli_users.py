"""`ccm users` and `ccm keys create --owner` as an operator runs them: a password piped in or typed twice,
a taken email or short password refused with exit 1 and one line on stderr, keys tied to their owner."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, select

from ccm import cli
from ccm.access.models import User
from ccm.access.passwords import verify_password
from ccm.database import make_engine
from tests.ccm.test_cli import ccm

pytestmark = pytest.mark.slow
PASSWORD = "a-long-password-here"


def ccm_with_input(data_dir: Path, stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCM_")}
    env.update({"CCM_DATA_DIR": str(data_dir), "CCM_ENV": "development"})
    return subprocess.run(
        [sys.executable, "-m", "ccm.cli", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _rows(result: subprocess.CompletedProcess[str]) -> list[list[str]]:
    assert result.returncode == 0, result.stderr
    return [line.split("\t") for line in result.stdout.splitlines()]


def _stored_hash(data_dir: Path, email: str) -> str:
    engine = make_engine(f"sqlite:///{data_dir / 'ccm.db'}")
    with Session(engine) as session:
        user = session.exec(select(User).where(User.email == email)).one()
    engine.dispose()
    return user.password_hash


def test_create_list_and_disable_users(tmp_path: Path) -> None:
    assert ccm(tmp_path, "migrate").returncode == 0
    created = ccm_with_input(
        tmp_path,
        f"{PASSWORD}\nignored\n",
        "users",
        "create",
        "--email",
        "Ana@Example.com",
        "--role",
        "marketer",
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == "created marketer user 1 ana@example.com"
    assert verify_password(PASSWORD, _stored_hash(tmp_path, "ana@example.com"))  # the first line, no newline

    taken = ccm_with_input(
        tmp_path, f"{PASSWORD}\n", "users", "create", "--email", "ANA@example.com", "--role", "admin"
    )
    assert taken.returncode == 1 and taken.stdout == ""
    assert taken.stderr == "ccm: a user with the email ana@example.com already exists\n"

    short = ccm_with_input(
        tmp_path, "short\n", "users", "create", "--email", "bo@example.com", "--role", "admin"
    )
    assert short.returncode == 1
    assert short.stderr == "ccm: the password must be at least 12 characters long\n"

    assert (
        ccm_with_input(
            tmp_path, PASSWORD, "users", "create", "--email", "bo@x.org", "--role", "admin"
        ).returncode
        == 0
    )
    rows = _rows(ccm(tmp_path, "users", "list"))
    assert [(r[0], r[1], r[2], r[4]) for r in rows] == [
        ("1", "ana@example.com", "marketer", "-"),
        ("2", "bo@x.org", "admin", "-"),
    ]
    assert all(len(r) == 5 and r[3] and "scrypt" not in "\t".join(r) for r in rows)

    disabled = ccm(tmp_path, "users", "disable", "--email", "BO@x.org")
    assert disabled.returncode == 0 and "user 2 bo@x.org disabled at" in disabled.stdout
    assert _rows(ccm(tmp_path, "users", "list"))[1][4] != "-"
    unknown = ccm(tmp_path, "users", "disable", "--email", "cy@x.org")
    assert unknown.returncode == 1 and unknown.stderr == "ccm: no user with the email cy@x.org\n"


def test_keys_are_tied_to_their_owner(tmp_path: Path) -> None:
    assert ccm(tmp_path, "migrate").returncode == 0
    assert (
        ccm_with_input(
            tmp_path, PASSWORD, "users", "create", "--email", "ana@example.com", "--role", "marketer"
        ).returncode
        == 0
    )

    owned = ccm(tmp_path, "keys", "create", "--role", "marketer", "--owner", "ANA@example.com")
    assert owned.returncode == 0, owned.stderr
    assert "for ana@example.com" in owned.stdout and owned.stdout.splitlines()[-1].startswith("ccm_")
    assert ccm(tmp_path, "keys", "create", "--role", "sender").returncode == 0

    orphan = ccm(tmp_path, "keys", "create", "--role", "admin", "--owner", "nobody@example.com")
    assert orphan.returncode == 1 and orphan.stdout == ""
    assert orphan.stderr.startswith("ccm: no user with the email nobody@example.com")
    assert len(orphan.stderr.splitlines()) == 1

    rows = _rows(ccm(tmp_path, "keys", "list"))
    assert [(r[0], r[1], r[6]) for r in rows] == [("1", "marketer", "ana@example.com"), ("2", "sender", "-")]


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Standard input as a terminal; the passwords `getpass` will read, in order."""
    typed: list[str] = []
    stdin = io.StringIO("never read\n")
    monkeypatch.setattr(stdin, "isatty", lambda: True)
    monkeypatch.setattr(sys, "stdin", stdin)
    monkeypatch.setattr(cli.getpass, "getpass", lambda _prompt: typed.pop(0))
    return typed


def test_at_a_terminal_the_password_is_asked_twice(
    terminal: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    terminal.extend([PASSWORD, PASSWORD])
    assert cli._read_password() == PASSWORD
    terminal.extend([PASSWORD, PASSWORD + "x"])
    assert cli._read_password() is None
    assert "the two passwords differ" in capsys.readouterr().err
