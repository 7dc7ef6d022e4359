"""Includes and layouts resolve from a library of pinned sources only: never files, never unpinned names,
never without bound."""

from __future__ import annotations

import pytest

from renderers.email import EmailTemplate, check_email_template, render_email
from renderers.environment import check_library_source, included_names, render_text
from renderers.errors import TemplateSourceError, UnsafeTemplateError
from renderers.library import EMAIL_LAYOUT, MAX_INCLUDE_DEPTH, PDF_LAYOUT, with_layout
from renderers.pdf import PdfTemplate, render_pdf

LIBRARY = {
    "footer": "<p>Bye {{ name }}</p>",
    EMAIL_LAYOUT: "<html><body><h1>ACME</h1>{% block content %}{% endblock %}"
    "{% include 'footer' %}</body></html>",
}


def test_a_partial_is_included_by_its_key_and_escaped_like_the_part() -> None:
    assert render_text("Hi {% include 'footer' %}", {"name": "<b>"}, autoescape=True, library=LIBRARY) == (
        "Hi <p>Bye &lt;b&gt;</p>"
    )


def test_a_layout_wraps_the_part_as_its_content_block() -> None:
    html = render_text(
        with_layout("<p>Hi {{ name }}</p>", EMAIL_LAYOUT), {"name": "Ada"}, autoescape=True, library=LIBRARY
    )
    assert html == "<html><body><h1>ACME</h1><p>Hi Ada</p><p>Bye Ada</p></body></html>"


def test_an_email_and_a_pdf_are_wrapped_in_their_layouts() -> None:
    email = render_email(
        EmailTemplate(
            subject="Hi", html="<p>Invoice for {{ name }}</p>", library=LIBRARY, layout=EMAIL_LAYOUT
        ),
        {"name": "Ada"},
    )
    assert "<h1>ACME</h1>" in email.html and "Invoice for Ada" in email.html and "Bye Ada" in email.text
    library = {PDF_LAYOUT: "<html><body><h1>Letterhead</h1>{% block content %}{% endblock %}</body></html>"}
    plain = render_pdf(PdfTemplate(html="<p>Invoice</p>"), {})
    wrapped = render_pdf(PdfTemplate(html="<p>Invoice</p>", library=library, layout=PDF_LAYOUT), {})
    assert wrapped.data != plain.data and wrapped.pages == 1


@pytest.mark.parametrize(
    "source",
    ["{% include '/etc/passwd' %}", "{% include 'header' %}", "{% extends 'base.html' %}"],
)
def test_nothing_outside_the_library_can_be_included(source: str) -> None:
    with pytest.raises(UnsafeTemplateError, match="is not a partial this version pins"):
        render_text(source, {}, library=LIBRARY)


def test_without_a_library_includes_stay_refused() -> None:
    with pytest.raises(UnsafeTemplateError, match="cannot include"):
        render_text("{% include 'footer' %}", {})


@pytest.mark.parametrize(
    "source", ["{% include name %}", "{% include ['footer'] %}", "{% import 'footer' as f %}"]
)
def test_names_must_be_constants_and_imports_are_refused(source: str) -> None:
    with pytest.raises(UnsafeTemplateError):
        render_text(source, {"name": "footer"}, library=LIBRARY)


def test_included_sources_are_checked_like_the_part() -> None:
    with pytest.raises(UnsafeTemplateError, match="'secret' is not a partial"):
        render_text("{% include 'a' %}", {}, library={"a": "{% include 'secret' %}"})


def test_a_cycle_of_includes_is_refused_before_it_renders() -> None:
    with pytest.raises(UnsafeTemplateError, match="cycle: a -> b -> a"):
        render_text("{% include 'a' %}", {}, library={"a": "{% include 'b' %}", "b": "{% include 'a' %}"})


def test_includes_are_nested_at_most_so_deep() -> None:
    chain = {f"p{i}": f"{{% include 'p{i + 1}' %}}" for i in range(MAX_INCLUDE_DEPTH + 2)}
    chain[f"p{MAX_INCLUDE_DEPTH + 2}"] = "end"
    with pytest.raises(UnsafeTemplateError, match="nested more than"):
        render_text("{% include 'p0' %}", {}, library=chain)


def test_an_email_that_includes_an_unpinned_name_is_refused_when_saved() -> None:
    with pytest.raises(UnsafeTemplateError) as caught:
        check_email_template(EmailTemplate(subject="s", html="{% include 'header' %}", library=LIBRARY))
    assert caught.value.field == "html"


def test_the_names_a_source_includes_are_found_for_pinning() -> None:
    assert included_names("{% include 'a' %}{% include 'b' %}{% include 'a' %}{% include x %}") == ["a", "b"]
    assert included_names("{% if %}") == []


def test_a_layout_needs_the_content_block() -> None:
    check_library_source("<div>{% block content %}{% endblock %}</div>", block="content")
    with pytest.raises(TemplateSourceError, match="block content"):
        check_library_source("<div></div>", block="content")
    with pytest.raises(UnsafeTemplateError):
        check_library_source("{% include name %}")
