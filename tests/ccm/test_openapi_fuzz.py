"""Schemathesis against the service's own OpenAPI: whatever a client sends, never a 5xx.

Runs with an admin key (so requests get past authentication and reach validation and the services)
on SQLite and PostgreSQL, whose refusals (NUL bytes, lengths, integer ranges) differ.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from ccm.app import create_app
from ccm.settings import Settings
from tests.ccm.conftest import Service


def _operation_labels() -> list[str]:
    """Every documented operation, read from the app's OpenAPI without starting it."""
    app = create_app(Settings(_env_file=None, env="test", secret_key="s" * 40), background=False)  # type: ignore[call-arg]
    methods = ("get", "put", "post", "delete", "patch")
    return [
        f"{m.upper()} {path}" for path, item in app.openapi()["paths"].items() for m in item if m in methods
    ]


OPERATIONS = _operation_labels()


@pytest.fixture
def live_schema(service: Service, customer: dict[str, Any]) -> Any:
    """The schema wired to a running app whose database holds a customer and a sent message."""
    service.send(
        {"template": "otp", "customer_id": "c-1", "data": {"code": "1", "expires_minutes": 5}}, key="seed"
    )
    service.work()
    return schemathesis.openapi.from_asgi("/openapi.json", service.client.app)


@pytest.mark.parametrize("label", OPERATIONS)
def test_no_request_produces_a_server_error(label: str, live_schema: Any, service: Service) -> None:
    operation = live_schema.find_operation_by_label(label)
    headers = service.headers()

    @given(case=operation.as_strategy())
    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=[not_a_server_error])

    check()
