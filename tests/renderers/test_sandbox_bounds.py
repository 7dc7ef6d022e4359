"""The sandbox refuses, before allocating, the one-step size bombs Jinja's own sandbox lets through."""

from __future__ import annotations

import pytest

from renderers.environment import render_text
from renderers.errors import UnsafeTemplateError


@pytest.mark.parametrize(
    "source",
    [
        "{{ 'x'.ljust(10**9) }}",
        "{{ 'x'.rjust(10**9) }}",
        "{{ 'x'.center(10**9) }}",
        "{{ '1'.zfill(10**9) }}",
        "{{ '{:>999999999}'.format(1) }}",
        "{{ '{0:.999999999f}'.format(1.5) }}",
        "{{ '%999999999s' % 1 }}",
        "{{ '%*s' % (999999999, 'x') }}",
        "{{ lipsum(1000000) }}",
        "{% set ns = namespace(a='x') %}{% for i in range(40) %}{% set ns.a = ns.a ~ ns.a %}{% endfor %}",
    ],
)
def test_size_bombs_are_refused(source: str) -> None:
    with pytest.raises(UnsafeTemplateError):
        render_text(source, {})


@pytest.mark.parametrize("autoescape", [False, True])
def test_ordinary_padding_formatting_and_concatenation_still_work(autoescape: bool) -> None:
    source = "{{ 'ab'.center(6) }}|{{ '%5s' % 'x' }}|{{ '{:>4}'.format(7) }}|{{ 7 % 3 }}|{{ a ~ '!' ~ 1 }}"
    rendered = render_text(source, {"a": "<b>"}, autoescape=autoescape)
    expected_a = "&lt;b&gt;" if autoescape else "<b>"
    assert rendered == f"  ab  |    x|   7|1|{expected_a}!1"
