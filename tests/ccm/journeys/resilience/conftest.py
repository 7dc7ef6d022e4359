"""The journey kill test runs on the message kill tests' PostgreSQL database: a fresh one per test."""

from tests.ccm.communications.resilience.conftest import postgres_url

__all__ = ["postgres_url"]
