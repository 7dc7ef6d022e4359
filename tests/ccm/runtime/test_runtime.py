"""The composition root: a start-up warning when SES sends email but its bounces and complaints would be
refused (no SNS topic configured)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from ccm.runtime import warn_if_ses_events_are_refused
from ccm.settings import Settings

TOPIC = "arn:aws:sns:eu-west-1:123456789012:ccm-ses-events"


def settings(tmp_path: Path, **values: Any) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, secret_key="s" * 40, **values)


@pytest.mark.parametrize(
    "values",
    [{"email_provider": "ses"}, {"routes": {"email:marketing": ["ses"], "email": ["smtp", "outbox"]}}],
)
def test_ses_without_a_topic_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, values: dict[str, Any]
) -> None:
    with caplog.at_level(logging.WARNING, logger="ccm.runtime"):
        warn_if_ses_events_are_refused(settings(tmp_path, **values))

    [record] = caplog.records
    assert "CCM_SNS_TOPIC_ARNS" in record.getMessage() and "/webhooks/ses" in record.getMessage()


@pytest.mark.parametrize(
    "values",
    [
        {"email_provider": "ses", "sns_topic_arns": [TOPIC]},
        {"routes": {"email": ["ses"]}, "sns_topic_arns": [TOPIC]},
        {"email_provider": "smtp"},
        {"routes": {"sms": ["sns"]}},
    ],
)
def test_no_warning_with_a_topic_or_without_ses(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, values: dict[str, Any]
) -> None:
    with caplog.at_level(logging.WARNING, logger="ccm.runtime"):
        warn_if_ses_events_are_refused(settings(tmp_path, **values))

    assert caplog.records == []
