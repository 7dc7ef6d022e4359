"""Every knob of the service, read once from `CCM_*` environment variables (or a `.env` file)."""

from __future__ import annotations

import base64
import re
import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal, Self

import idna
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEVELOPMENT_SECRET_FILE = "secret.key"  # noqa: S105 (a file name, not a secret)
# Archive retention in days; the most specific rule wins: "template:KEY", "CATEGORY:CHANNEL", "CATEGORY",
# then "default".
DEFAULT_RETENTION_DAYS = {
    "default": 3650,
    "transactional": 3650,
    "marketing": 730,
    "template:otp": 90,
}


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"
    TEST = "test"


class EmailProviderName(StrEnum):
    OUTBOX = "outbox"
    SMTP = "smtp"
    SES = "ses"
    WEBHOOK = "webhook"


class SmsProviderName(StrEnum):
    OUTBOX = "outbox"
    TWILIO = "twilio"
    SNS = "sns"
    WEBHOOK = "webhook"


ROUTE_KEY = re.compile(r"^[a-z][a-z0-9_]*(:(transactional|marketing))?$")
"""CHANNEL or CHANNEL:CATEGORY; the channel and the provider names are checked against the registries
when the providers are built (`ccm.runtime.providers`), at start-up."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CCM_", env_file=".env", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    data_dir: Path = PROJECT_ROOT / "var"
    database_url: str = ""
    archive_url: str = ""
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    base_url: str = ""
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    secret_key: str = ""
    token_keys: dict[str, str] = Field(default_factory=dict)
    token_key_id: str = ""
    templates_dir: Path = PROJECT_ROOT / "templates"

    email_provider: EmailProviderName = EmailProviderName.OUTBOX
    email_from: str = "ccm <noreply@ccm.localhost>"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_timeout: float = Field(default=10.0, gt=0)

    sms_provider: SmsProviderName = SmsProviderName.OUTBOX
    sms_from: str = "ccm"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from: str | None = None
    twilio_base_url: str = "https://api.twilio.com"
    double_opt_in_email: bool = False
    """Marketing email waits for the customer to confirm their address (`ccm.eligibility.rules`)."""
    smtp_pool_size: int = Field(default=2, ge=1, le=64)
    aws_region: str | None = None
    ses_endpoint_url: str | None = None
    ses_configuration_set: str | None = None
    sns_endpoint_url: str | None = None
    sns_sender_id: str | None = None
    sns_topic_arns: list[str] = Field(default_factory=list)
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_allowed_hosts: list[str] = Field(default_factory=list)
    webhook_retry_base_seconds: float = Field(default=60.0, gt=0)
    webhook_max_attempts: int = Field(default=8, ge=1, le=30)
    webhook_disable_after_failures: int = Field(default=100, ge=1)
    webhook_disable_after_hours: float = Field(default=24.0, gt=0)
    crm_webhook_secret: str | None = Field(default=None, pattern=r"^whsec_[A-Za-z0-9+/]+={0,2}$")
    dkim_domain: str | None = None
    dkim_selector: str | None = None
    dkim_private_key_file: Path | None = None
    routes: dict[str, list[str]] = Field(default_factory=dict)
    provider_limits: dict[str, dict[str, float]] = Field(default_factory=dict)
    failover_failure_threshold: int = Field(default=5, ge=1)
    failover_cooldown_seconds: float = Field(default=30.0, gt=0)

    log_format: str = Field(default="text", pattern="^(text|json)$")
    log_level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")
    run_worker: bool = True
    worker_poll_interval: float = Field(default=0.5, gt=0)
    worker_batch_size: int = Field(default=20, ge=1, le=1000)
    worker_commit_interval_ms: int = Field(default=50, ge=0, le=1000)
    lease_seconds: int = Field(default=120, ge=5)
    max_attempts: int = Field(default=8, ge=1)
    retry_base_seconds: float = Field(default=5.0, gt=0)
    idempotency_ttl_hours: int = Field(default=24, ge=1)
    deadline_email_seconds: int = Field(default=86_400, ge=60)
    deadline_sms_seconds: int = Field(default=900, ge=60)
    deadline_pdf_seconds: int = Field(default=86_400, ge=60)
    max_request_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_import_bytes: int = Field(default=512 * 1024 * 1024, ge=1024)
    document_link_days: int = Field(default=90, ge=1, le=3650)
    tracking_click_after_delivery_seconds: float = Field(default=10.0, ge=0)
    tracking_click_burst_seconds: float = Field(default=1.0, ge=0)
    tracking_apple_prefetch_seconds: float = Field(default=60.0, ge=0)
    pdf_variant: str | None = "pdf/a-3b"
    render_isolation: Literal["process", "inline"] = "process"
    render_processes: int = Field(default=1, ge=1, le=32)
    render_cpu_seconds: float = Field(default=10.0, gt=0)
    render_timeout_seconds: float = Field(default=60.0, gt=0)
    render_memory_mb: int = Field(default=512, ge=64)
    pdf_max_pages: int = Field(default=200, ge=1)
    email_max_bytes: int = Field(default=1024 * 1024, ge=1024)
    sms_max_segments: int = Field(default=10, ge=1)
    lint_sms_segments: int = Field(default=2, ge=1)

    archive_lock_mode: Literal["COMPLIANCE", "GOVERNANCE"] = "COMPLIANCE"
    archive_retention_days: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_RETENTION_DAYS))
    archive_checkpoint_minutes: int = Field(default=10, ge=1)
    archive_purge_interval_minutes: int = Field(default=60, ge=1)
    campaign_poll_seconds: float = Field(default=5.0, gt=0)
    campaign_batch_size: int = Field(default=500, ge=1, le=10_000)
    batch_poll_seconds: float = Field(default=2.0, gt=0)
    approval_categories: list[Literal["transactional", "marketing"]] = ["marketing"]
    """Template categories whose versions go live only once a second person approved them (four-eyes);
    the names are the registry's categories (a test keeps the two lists equal)."""
    archive_signing_key: str = ""
    archive_master_key: str = ""
    journey_trigger_seconds: float = Field(default=60.0, gt=0)
    """How often segment and date triggers of journeys are evaluated."""
    journey_step_max_attempts: int = Field(default=5, ge=1, le=100)
    """Attempts at a journey step that keeps raising (retried after `retry_base_seconds`, doubling, at
    most an hour) before its run ends as `failed` with the error kept on it."""
    test_clock_file: Path | None = None
    """Tests only: a file holding an ISO 8601 time that the journey engine takes as now (refused in
    production), so a test moves time past a wait without sleeping."""

    @field_validator("routes")
    @classmethod
    def _valid_routes(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for key, names in value.items():
            if not ROUTE_KEY.fullmatch(key):
                raise ValueError(
                    f"route key {key!r} must be CHANNEL or CHANNEL:CATEGORY, e.g. 'email:marketing'"
                )
            if not names:
                raise ValueError(f"route {key!r} names no provider")
        return value

    @field_validator("provider_limits")
    @classmethod
    def _valid_limits(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for name, limits in value.items():
            if set(limits) - {"rate", "burst", "concurrency"}:
                raise ValueError(
                    f"provider_limits[{name!r}] takes rate, burst and concurrency for a known provider"
                )
        return value

    @field_validator("base_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _fill_defaults(self) -> Self:
        """Derive embedded defaults from `data_dir`, and refuse a missing secret outside development."""
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'ccm.db'}"
        if not self.archive_url:
            self.archive_url = (self.data_dir / "archive").as_uri()
        if not self.base_url:
            self.base_url = f"http://{self.host}:{self.port}"
        if not self.secret_key:
            if self.env is Environment.PRODUCTION:
                raise ValueError("CCM_SECRET_KEY must be set in production (32+ random characters)")
            self.secret_key = _development_secret(self.data_dir)
        if self.env is Environment.PRODUCTION and self.test_clock_file is not None:
            raise ValueError("CCM_TEST_CLOCK_FILE moves the journey clock for tests; production refuses it")
        if self.env is Environment.PRODUCTION and len(self.secret_key) < 32:
            raise ValueError("CCM_SECRET_KEY must be at least 32 characters in production")
        for name, label in (("archive_signing_key", "signing"), ("archive_master_key", "master")):
            if not getattr(self, name):
                if self.env is Environment.PRODUCTION:
                    raise ValueError(f"CCM_{name.upper()} must be set in production (base64 of 32 bytes)")
                setattr(self, name, _development_key(self.data_dir, f"archive-{label}.key"))
        if self.sms_provider is SmsProviderName.TWILIO and not (
            self.twilio_account_sid and self.twilio_auth_token and self.twilio_from
        ):
            raise ValueError(
                "CCM_SMS_PROVIDER=twilio needs CCM_TWILIO_ACCOUNT_SID, CCM_TWILIO_AUTH_TOKEN"
                " and CCM_TWILIO_FROM"
            )
        return self

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def assets_dir(self) -> Path:
        return self.templates_dir / "_assets"

    @property
    def email_domain(self) -> str:
        """The domain used in Message-IDs: the sender address's domain, in punycode when it is an IDN
        (a Message-ID is ASCII; `renderers.mime` refuses any other)."""
        address = self.email_from.rsplit("<", 1)[-1].rstrip(">").strip()
        domain = address.rsplit("@", 1)[-1] or "ccm.localhost"
        try:
            return domain if domain.isascii() else str(idna.encode(domain, uts46=True).decode("ascii"))
        except idna.IDNAError:
            return domain  # renderers.mime refuses it with a HeaderError naming the Message-ID


def _development_secret(data_dir: Path) -> str:
    """A per-checkout random secret kept under `var/`, so tokens survive restarts of `make run`."""
    path = data_dir / DEVELOPMENT_SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.write_text(secret)
    path.chmod(0o600)
    return secret


def _development_key(data_dir: Path, name: str) -> str:
    """32 random bytes (base64) kept under `var/`, like the development secret; never used in production."""
    path = data_dir / name
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = base64.b64encode(secrets.token_bytes(32)).decode("ascii")
    path.write_text(key)
    path.chmod(0o600)
    return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
