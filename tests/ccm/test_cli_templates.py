"""`ccm templates pull` and `push` as an operator runs them, on a migrated SQLite file: a round trip that
changes nothing, an edit pushed as a draft by a named user, and a bad file refused with exit 1."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from ccm.database import make_engine
from ccm.registry.models import Template, TemplateVersion
from ccm.settings import PROJECT_ROOT
from tests.ccm.test_cli import ccm
from tests.ccm.test_cli_users import PASSWORD, ccm_with_input

pytestmark = pytest.mark.slow


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _versions(data_dir: Path, key: str) -> list[tuple[int, str, str]]:
    engine = make_engine(f"sqlite:///{data_dir / 'ccm.db'}")
    with Session(engine) as session:
        statement = (
            select(TemplateVersion.number, TemplateVersion.status, TemplateVersion.created_by)
            .join(Template, col(Template.id) == TemplateVersion.template_id)
            .where(Template.key == key)
            .order_by(col(TemplateVersion.number))
        )
        rows = [(number, str(status), author) for number, status, author in session.exec(statement)]
    engine.dispose()
    return rows


def test_pull_push_round_trip_and_a_pushed_draft(tmp_path: Path) -> None:
    data, repo = tmp_path / "data", tmp_path / "repo"
    assert ccm(data, "migrate").returncode == 0
    assert ccm(data, "load-templates").returncode == 0
    user = ccm_with_input(
        data, PASSWORD, "users", "create", "--email", "ana@example.com", "--role", "marketer"
    )
    assert user.returncode == 0, user.stderr

    pulled = ccm(data, "templates", "pull", str(repo))
    assert pulled.returncode == 0, pulled.stderr
    assert "template otp: v1 (published) written" in pulled.stdout.splitlines()
    assert (repo / "otp/sms.txt").read_bytes() == (PROJECT_ROOT / "templates/otp/sms.txt").read_bytes()
    snapshot = _tree(repo)
    pushed = ccm(data, "templates", "push", str(repo))
    assert pushed.returncode == 0, pushed.stderr
    library = PROJECT_ROOT / "templates"
    starters = sorted(p.name for p in library.iterdir() if (p / "template.json").is_file())
    assert "otp" in starters and "invoice" in starters
    assert pushed.stdout.splitlines() == [f"template {key}: unchanged (v1)" for key in starters]
    assert ccm(data, "templates", "pull", str(repo)).returncode == 0
    assert _tree(repo) == snapshot

    (repo / "otp/sms.txt").write_text("Your code: {{ code }}")
    edited = ccm(data, "templates", "push", str(repo), "--as", "ANA@example.com")
    assert edited.returncode == 0, edited.stderr
    assert "template otp: new draft v2" in edited.stdout.splitlines()
    assert _versions(data, "otp") == [(1, "published", "system"), (2, "draft", "user:1")]

    (repo / "welcome/template.json").write_text('{"name": "Welcome",')
    refused = ccm(data, "templates", "push", str(repo))
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.startswith(f"ccm: {repo / 'welcome/template.json'}: not JSON")
    assert len(refused.stderr.splitlines()) == 1
    unknown = ccm(data, "templates", "push", str(repo), "--as", "nobody@example.com")
    assert unknown.returncode == 1 and "nobody@example.com" in unknown.stderr
