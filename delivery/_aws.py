"""What an AWS API failure means for a message, shared by the SES and SNS providers, and their boto3 clients.

The rule, as for SMTP: anything that says "not now" or leaves the outcome unknown (throttling, 5xx, network
trouble, timeouts) keeps the message for a retry; so does a refusal of *this account or configuration*
(credentials, suspended or paused sending, an unverified sending domain), because another provider or a fixed
configuration can still deliver the message, and failover only moves on after a transient error. Only a
refusal of *this message* (bad recipient, rejected content, invalid parameters) gives up on it.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from delivery.base import Outcome

# Error codes that AWS answers with a 4xx status but that mean "try again later".
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "Throttled",  # SNS ThrottledException
        "TooManyRequestsException",  # SES v2
        "RequestLimitExceeded",
        "KMSThrottlingException",
        "KMSThrottling",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
# Error codes that refuse this account or its configuration, not the message: keep it, let failover try.
CONFIGURATION_CODES = frozenset(
    {
        "AccountSuspendedException",
        "AccountSendingPausedException",
        "SendingPausedException",
        "ConfigurationSetSendingPausedException",
        "MailFromDomainNotVerifiedException",
        "MailFromDomainNotVerified",
        "NotFoundException",  # SES v2: the configuration set or identity named does not exist
        "AccessDenied",
        "AccessDeniedException",
        "AuthorizationError",  # SNS AuthorizationErrorException
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "IncompleteSignature",
        "MissingAuthenticationToken",
        "OptInRequired",
        "KMSDisabled",
        "KMSAccessDenied",
        "KMSNotFound",
    }
)


def make_client(
    service: str,
    *,
    region: str,
    endpoint_url: str | None = None,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
    session_token: str | None = None,
    timeout: float = 10.0,
    max_attempts: int = 1,  # in total: the outbox retries, botocore does not
) -> Any:
    """A boto3 client with short timeouts and few retries: the outbox, not botocore, does the retrying."""
    config = Config(
        connect_timeout=timeout,
        read_timeout=timeout,
        retries={"total_max_attempts": max_attempts, "mode": "standard"},
    )
    return boto3.client(
        service,  # type: ignore[call-overload]
        region_name=region,
        endpoint_url=endpoint_url,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        aws_session_token=session_token,
        config=config,
    )


def classify_aws_error(exc: Exception, service: str) -> tuple[Outcome, str]:
    """Map a botocore failure to an outcome and a detail naming the AWS error code and message."""
    if isinstance(exc, ClientError):
        return _classify_client_error(exc, service)
    if isinstance(exc, ReadTimeoutError):
        return Outcome.TRANSIENT_ERROR, f"{service} did not answer in time; it may have accepted the message"
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError | ConnectionClosedError):
        return Outcome.TRANSIENT_ERROR, f"cannot reach {service}: {type(exc).__name__}: {exc}"
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return Outcome.TRANSIENT_ERROR, f"no usable AWS credentials for {service} (configuration): {exc}"
    if isinstance(exc, ParamValidationError):
        return Outcome.PERMANENT_ERROR, f"{service} request is invalid: {exc}"
    if isinstance(exc, BotoCoreError):
        return Outcome.TRANSIENT_ERROR, f"{service} call failed: {type(exc).__name__}: {exc}"
    return Outcome.PERMANENT_ERROR, f"{service} call failed unexpectedly: {type(exc).__name__}: {exc}"


def _classify_client_error(exc: ClientError, service: str) -> tuple[Outcome, str]:
    error = exc.response.get("Error", {})
    code = str(error.get("Code") or "Unknown")
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    detail = f"{service} error {code}: {error.get('Message') or ''} (HTTP {status})".replace(":  (", ": (")
    if code in THROTTLING_CODES or status == 429 or status >= 500:
        return Outcome.TRANSIENT_ERROR, detail
    if code in CONFIGURATION_CODES or status in (401, 403):
        return (
            Outcome.TRANSIENT_ERROR,
            f"{detail}; the account or its configuration is refused, not the message",
        )
    return Outcome.PERMANENT_ERROR, detail
