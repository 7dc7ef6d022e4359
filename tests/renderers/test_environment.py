"""The sandboxed environment: missing-variable paths, sandbox refusals, syntax errors and Babel filters."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from babel import numbers

from renderers.environment import TEXT_ENV, check_syntax, render_text
from renderers.errors import MissingVariableError, RenderError, TemplateSourceError, UnsafeTemplateError
from renderers.filters import money_text
from renderers.localisation import render_settings

CONTEXT = {"invoice": {"lines": [{"description": "a"}]}, "customer": {"first_name": "Ann"}}


@pytest.mark.parametrize(
    ("source", "path"),
    [
        ("{{ invoice.number }}", "invoice.number"),
        ("{{ customer.last_name }}", "customer.last_name"),
        ("{{ order.id }}", "order.id"),
        ("{{ order }}", "order"),
        ("{% for line in invoice.lines %}{{ line.price }}{% endfor %}", "invoice.lines[0].price"),
        ("{% for x in missing %}{% endfor %}", "missing"),
        ("{{ missing == 1 }}", "missing"),
        ("{% if missing.flag %}y{% endif %}", "missing.flag"),
        ("{{ missing ~ 'x' }}", "missing"),
    ],
)
def test_missing_variable_names_full_path(source: str, path: str) -> None:
    with pytest.raises(MissingVariableError) as caught:
        render_text(source, CONTEXT)
    assert caught.value.variable == path
    assert f"missing variable '{path}'" in caught.value.message


def test_default_and_is_defined_still_work() -> None:
    source = "{{ x | default('y') }} {{ a.b | default('z') }} {% if x is defined %}d{% else %}u{% endif %}"
    assert render_text(source, {}) == "y z u"


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ customer.__class__ }}",
        "{% include '/etc/passwd' %}",
        "{% import 'x.html' as x %}",
        "{% extends 'base.html' %}",
        "{{ 'a' * 100000000 }}",
    ],
)
def test_sandbox_refuses(source: str) -> None:
    with pytest.raises(UnsafeTemplateError):
        render_text(source, CONTEXT)


def test_include_error_is_clear() -> None:
    with pytest.raises(UnsafeTemplateError, match="cannot include"):
        render_text("{% include '/etc/passwd' %}", {})


def test_huge_range_is_a_render_error() -> None:
    with pytest.raises(RenderError, match="Range too big"):
        render_text("{% for i in range(10**9) %}{% endfor %}", {})


def test_syntax_error_has_line_number() -> None:
    with pytest.raises(TemplateSourceError, match="line 3"):
        check_syntax("a\nb\n{% for x in %}")


def test_autoescape_only_when_asked() -> None:
    assert render_text("{{ v }}", {"v": "<b>"}, autoescape=True) == "&lt;b&gt;"
    assert render_text("{{ v }}", {"v": "<b>"}) == "<b>"


def test_user_data_cannot_override_render_locale() -> None:
    out = render_text("{{ 12.5 | money('EUR') }}", {"_ccm_render_settings": "x"}, locale="it")
    assert out.replace("\xa0", " ") == "12,50 €"


@pytest.mark.parametrize(
    ("locale", "expected"), [("en", "€12.50"), ("it", "12,50 €"), ("de-DE", "12,50 €"), ("it_IT", "12,50 €")]
)
def test_money(locale: str, expected: str) -> None:
    assert render_text("{{ 12.5 | money('EUR') }}", {}, locale=locale).replace("\xa0", " ") == expected


@pytest.mark.parametrize("locale", ["en", "it", "de_CH", "fr", "ar_EG", "ja", "hi", "nl", "sw", "en_IN"])
def test_money_writes_what_babels_format_currency_writes(locale: str) -> None:
    """The filter keeps a per-locale pattern with the currency written in; the strings are Babel's."""
    settings = render_settings(locale, "UTC")
    for currency in ("EUR", "usd", "JPY", "BHD", "CHF", "INR", "XXX"):
        for amount in ("0", "-1", "12.5", "1234.5", "-1234567.891", "0.005", "2.675", "1e3"):
            expected = numbers.format_currency(Decimal(amount), currency.upper(), locale=settings.locale)
            assert money_text(amount, currency, settings) == expected, (currency, amount)


def test_number_and_percent() -> None:
    assert render_text("{{ 1234567.891 | number(2) }}", {}, locale="it") == "1.234.567,89"
    assert render_text("{{ 1234567.891 | number(2) }}", {}) == "1,234,567.89"
    assert render_text("{{ 0.125 | percent(1) }}", {}) == "12.5%"


@pytest.mark.parametrize(
    "value", ["2024-03-01T23:30:00Z", datetime(2024, 3, 1, 23, 30, tzinfo=UTC), datetime(2024, 3, 1, 23, 30)]
)
def test_datetime_moves_to_timezone(value: object) -> None:
    out = render_text("{{ v | datetime('yyyy-MM-dd HH:mm') }}", {"v": value}, timezone="Europe/Rome")
    assert out == "2024-03-02 00:30"
    assert render_text("{{ v | date }}", {"v": value}, timezone="Europe/Rome") == "Mar 2, 2024"


def test_date_accepts_dates_and_localises() -> None:
    assert render_text("{{ v | date('long') }}", {"v": date(2024, 3, 1)}, locale="it") == "1 marzo 2024"
    assert render_text("{{ '2024-03-01' | date('short') }}", {}, locale="de") == "01.03.24"


@pytest.mark.parametrize(
    ("source", "needle"),
    [
        ("{{ 'soon' | date }}", "'soon'"),
        ("{{ 'abc' | money('EUR') }}", "'abc'"),
        ("{{ 1 | money('XXY') }}", "XXY"),
        ("{{ true | number }}", "True"),
    ],
)
def test_bad_filter_values_name_the_value(source: str, needle: str) -> None:
    with pytest.raises(RenderError, match=needle):
        render_text(source, {})


def test_bad_locale_and_timezone() -> None:
    with pytest.raises(RenderError) as caught:
        render_text("x", {}, locale="xx-NOPE")
    assert caught.value.field == "locale"
    with pytest.raises(RenderError) as caught:
        render_text("x", {}, timezone="Mars/Olympus")
    assert caught.value.field == "timezone"


def test_runtime_errors_become_render_errors_with_line() -> None:
    with pytest.raises(RenderError, match="ZeroDivisionError on line 2"):
        render_text("ok\n{{ 1 / 0 }}", {})


DEEP = 1000
UNCOMPILABLE = {
    "nested parentheses": "{{ " + "(" * DEEP + "1" + ")" * DEEP + " }}",
    "nested lists": "{{ " + "[" * DEEP + "]" * DEEP + " }}",
    "chained filters": "{{ x" + "|e" * DEEP + " }}",
    "chained additions": "{{ 1" + "+1" * DEEP + " }}",
    "nested ifs (Python's indentation limit)": "{% if x %}" * 100 + "{% endif %}" * 100,
    "nested fors (Python's block limit)": "{% for x in y %}" * 50 + "{% endfor %}" * 50,
    "many elifs (Python's compiler recursion)": "{% if x %}" + "{% elif y %}" * 4 * DEEP + "{% endif %}",
    "a 5,000-digit literal": "{{ 1" + "0" * 5000 + " }}",
}


@pytest.mark.parametrize("source", UNCOMPILABLE.values(), ids=UNCOMPILABLE.keys())
def test_source_python_cannot_compile_is_a_source_error(source: str) -> None:
    """RecursionError, SyntaxError and ValueError from Jinja's parser or Python's compile() never escape."""
    with pytest.raises(TemplateSourceError, match="cannot be compiled"):
        check_syntax(source)
    with pytest.raises(TemplateSourceError, match="cannot be compiled"):
        render_text(source, {"x": 1, "y": []})


def test_nesting_error_names_the_cause() -> None:
    with pytest.raises(TemplateSourceError, match="nested too deeply"):
        check_syntax(UNCOMPILABLE["nested parentheses"])


def test_memory_error_while_compiling_is_a_source_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def out_of_memory(*_args: object, **_kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(TEXT_ENV, "from_string", out_of_memory)
    with pytest.raises(TemplateSourceError, match="too large"):
        check_syntax("{{ 'a memory error nobody has compiled before' }}")


def test_recursion_at_render_time_is_a_render_error() -> None:
    with pytest.raises(RenderError, match="RecursionError"):
        render_text("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", {})
