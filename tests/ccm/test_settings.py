"""Settings: every knob documented, safe defaults, refusals outside development."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from ccm.settings import PROJECT_ROOT, Settings


def test_every_setting_is_in_the_readme_table() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    missing = [name for name in Settings.model_fields if f"`CCM_{name.upper()}`" not in readme]
    assert missing == []


def test_embedded_defaults_live_under_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    assert settings.database_url == f"sqlite:///{tmp_path / 'ccm.db'}"
    assert settings.archive_url == (tmp_path / "archive").as_uri()
    assert settings.base_url == "http://127.0.0.1:8000"
    assert len(settings.secret_key) >= 32
    again = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    assert again.secret_key == settings.secret_key  # kept across restarts


def test_production_needs_a_real_secret(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="CCM_SECRET_KEY"):
        Settings(_env_file=None, env="production", data_dir=tmp_path)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="32 characters"):
        Settings(_env_file=None, env="production", data_dir=tmp_path, secret_key="short")  # type: ignore[call-arg]


def test_twilio_needs_its_credentials(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="CCM_TWILIO_ACCOUNT_SID"):
        Settings(_env_file=None, data_dir=tmp_path, sms_provider="twilio")  # type: ignore[call-arg]


def test_settings_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCM_PORT", "9123")
    monkeypatch.setenv("CCM_EMAIL_FROM", "Billing <billing@acme.test>")
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    assert settings.port == 9123
    assert settings.base_url == "http://127.0.0.1:9123"
    assert settings.email_domain == "acme.test"


@pytest.mark.parametrize(
    ("email_from", "domain"),
    [("Shop <shop@bücher.de>", "xn--bcher-kva.de"), ("shop@straße.de", "xn--strae-oqa.de")],
)
def test_message_id_domain_is_punycode(tmp_path: Path, email_from: str, domain: str) -> None:
    """A Message-ID is ASCII, so an IDN sender domain goes into it in punycode (IDNA 2008)."""
    settings = Settings(_env_file=None, data_dir=tmp_path, email_from=email_from)  # type: ignore[call-arg]
    assert settings.email_domain == domain
