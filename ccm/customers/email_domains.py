"""A per-domain cache in front of email-validator's domain check, so a million addresses at one domain pay for
its Unicode and IDNA work once instead of a million times.

pydantic's `EmailStr` (the `PUT /v1/customers/{id}` body, a batch item and an imported row alike) calls
`email_validator.validate_email`, which checks the part after the @-sign with `validate_email_domain_name` on
every call. That check is a pure function of the domain, its two flags and the library's special-use list, so
the cache keys on all four and returns a fresh copy of what the library returned; a rejected domain is not
cached and is checked again, raising the library's own error. The library has no hook for this, so `install`
replaces the one name its `validate_email` looks up; a test checks that the cache is really consulted, so a
library version that stops looking the name up there is noticed rather than silently slow.
"""

from __future__ import annotations

import importlib
from functools import lru_cache
from typing import Any

import email_validator
from email_validator.syntax import validate_email_domain_name as UNCACHED

_CALLER = importlib.import_module("email_validator.validate_email")
DOMAINS = 4096
"""Distinct domains remembered: a bounded cache, so memory does not grow with an import file."""


@lru_cache(maxsize=DOMAINS)
def _checked(
    domain: str, test_environment: bool, globally_deliverable: bool, special_use: tuple[str, ...]
) -> tuple[tuple[str, Any], ...]:
    del special_use  # part of the key only: the library reads its list itself
    result = UNCACHED(domain, test_environment=test_environment, globally_deliverable=globally_deliverable)
    return tuple(result.items())


def cached_domain_check(
    domain: str, test_environment: bool = False, globally_deliverable: bool = True
) -> Any:
    """`validate_email_domain_name` with the same signature and result, remembered per domain."""
    special_use = tuple(email_validator.SPECIAL_USE_DOMAIN_NAMES)
    return dict(_checked(domain, test_environment, globally_deliverable, special_use))


def install() -> None:
    """Put the cache in front of the library's domain check (idempotent)."""
    setattr(_CALLER, "validate_email_domain_name", cached_domain_check)  # noqa: B010 (no such name to mypy)


def cache_info() -> Any:
    """Hits and misses so far, for the test that proves the cache is on the path a `PUT` takes."""
    return _checked.cache_info()
