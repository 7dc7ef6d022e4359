"""The distribution installs the four top-level packages from this checkout, and only those."""

from __future__ import annotations

import importlib
from importlib.metadata import distribution
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", ["ccm", "renderers", "delivery", "archive"])
def test_top_level_package_resolves_to_this_checkout(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__file__ is not None
    assert Path(module.__file__).resolve() == ROOT / name / "__init__.py"


def test_distribution_is_ccm_service_with_the_ccm_command() -> None:
    dist = distribution("ccm-service")
    assert any(ep.name == "ccm" and ep.value == "ccm.cli:main" for ep in dist.entry_points)
