"""Email rendering: Jinja survives MJML and CSS inlining, links are tracked, text and subject are safe."""

import re
import subprocess
import sys

import pytest

from renderers.email import EmailTemplate, check_email_template, render_email
from renderers.errors import MissingVariableError, RenderError, TemplateSourceError
from renderers.nesting import MAX_DEPTH

MJML = """<mjml><mj-head><mj-style inline="inline">.total td { font-weight: bold; }</mj-style></mj-head>
<mj-body>
<mj-section><mj-column>
<mj-text><h1>Invoice {{ invoice.number }}</h1><p>Hello {{ customer.first_name }}</p></mj-text>
<mj-table>{% for line in invoice.lines %}<tr class="row"><td>{{ line.description }}</td>
<td>{{ line.price | money('EUR') }}</td></tr>{% endfor %}
<tr class="total"><td>Total</td><td>{{ total }}</td></tr>
</mj-table>
{% if total > 100 %}<mj-text>BIG-ORDER</mj-text>{% else %}<mj-text>SMALL-ORDER</mj-text>{% endif %}
<mj-button href="https://x.test/i/{{ invoice.number }}?a=1&b=2">View</mj-button>
<mj-text><a href="mailto:help@x.test">help</a> <a href="tel:+3900">call</a> <a href="#top">top</a></mj-text>
</mj-column></mj-section></mj-body></mjml>"""

HTML = """<html><head><style>td.price { color: #123456; }</style></head><body>
<table>{% for line in invoice.lines %}<tr class="row"><td>{{ line.description }}</td>
<td class="price">{{ line.price }}</td></tr>{% endfor %}</table>
{% if total > 100 %}<p>BIG-ORDER</p>{% endif %}
<a href="https://x.test/i/{{ invoice.number }}?a=1&b=2">View</a></body></html>"""


def context(rows: int = 5, total: int = 150) -> dict[str, object]:
    lines = [{"description": f"Item {i}", "price": 10 * i} for i in range(rows)]
    customer = {"first_name": "<script>alert(1)</script>"}
    return {"customer": customer, "invoice": {"number": "A/1", "lines": lines}, "total": total}


@pytest.mark.parametrize("body", [{"mjml": MJML}, {"html": HTML}])
def test_jinja_is_not_corrupted(body: dict[str, str]) -> None:
    rendered = render_email(EmailTemplate(subject="Invoice {{ invoice.number }}", **body), context(rows=7))
    assert rendered.html.count('class="row"') == 7
    assert "BIG-ORDER" in rendered.html
    assert 'href="https://x.test/i/A/1?a=1&amp;b=2"' in rendered.html
    assert "&lt;script&gt;" in rendered.html or "<script>" not in rendered.html
    assert "<script>alert" not in rendered.html


def test_comparison_false_branch() -> None:
    rendered = render_email(EmailTemplate(subject="s", mjml=MJML), context(total=50))
    assert "SMALL-ORDER" in rendered.html
    assert "BIG-ORDER" not in rendered.html


def test_inline_mj_style_and_head_css_are_inlined() -> None:
    mjml = render_email(EmailTemplate(subject="s", mjml=MJML), context()).html
    assert re.search(r'<tr class="total"><td style="[^"]*font-weight: ?bold', mjml)
    html = render_email(EmailTemplate(subject="s", html=HTML), context()).html
    assert re.search(r'<td class="price" style="color: ?#123456', html)


def test_links_rewritten_except_mailto_tel_anchor_and_pixel_added() -> None:
    seen: list[str] = []

    def track(url: str) -> str:
        seen.append(url)
        return f"https://t.test/c/{len(seen)}?x=1&y=2"

    rendered = render_email(
        EmailTemplate(subject="s", mjml=MJML),
        context(),
        link_rewriter=track,
        open_pixel_url="https://t.test/o?a=1&b=2",
    )
    assert seen == ["https://x.test/i/A/1?a=1&b=2"]
    assert 'href="https://t.test/c/1?x=1&amp;y=2"' in rendered.html
    assert 'href="mailto:help@x.test"' in rendered.html
    assert 'href="tel:+3900"' in rendered.html
    assert 'href="#top"' in rendered.html
    pixel = '<img src="https://t.test/o?a=1&amp;b=2" width="1" height="1" alt="" style="display:none"></body>'
    assert pixel in rendered.html


def test_generated_text_part_is_readable() -> None:
    text = render_email(EmailTemplate(subject="s", mjml=MJML), context(rows=2), locale="it").text
    assert "Invoice A/1" in text
    assert "Hello <script>alert(1)</script>" in text
    assert "Item 1 10,00 €" in text
    assert "View (https://x.test/i/A/1?a=1&b=2)" in text
    assert "help (help@x.test)" in text
    assert "{" not in text
    assert "font-weight" not in text
    assert "\n\n\n" not in text


def test_hand_written_text_part_is_not_escaped() -> None:
    template = EmailTemplate(subject="s", html="<p>x</p>", text="Hi {{ customer.first_name }}")
    assert render_email(template, context()).text == "Hi <script>alert(1)</script>"


def test_subject_is_not_escaped_but_must_be_one_line() -> None:
    template = EmailTemplate(subject="Offer for {{ name }} & co", html="<p>x</p>")
    assert render_email(template, {"name": "Tom <3"}).subject == "Offer for Tom <3 & co"
    with pytest.raises(RenderError) as caught:
        render_email(template, {"name": "x\r\nBcc: victim@x.test"})
    assert caught.value.field == "subject"


def test_missing_variable_is_tagged_with_its_part() -> None:
    with pytest.raises(MissingVariableError) as caught:
        render_email(EmailTemplate(subject="s", mjml=MJML), {"invoice": {"lines": []}, "total": 1})
    assert caught.value.variable == "invoice.number"
    assert caught.value.field == "mjml"


def test_check_email_template() -> None:
    check_email_template(EmailTemplate(subject="{{ a }}", mjml=MJML, text="{{ b }}"))
    with pytest.raises(TemplateSourceError) as caught:
        check_email_template(EmailTemplate(subject="{{ a ", html="<p></p>"))
    assert caught.value.field == "subject"
    with pytest.raises(TemplateSourceError, match="invalid MJML"):
        check_email_template(EmailTemplate(subject="s", mjml="<mjml><mj-body><mj-section>"))
    with pytest.raises(RenderError):
        check_email_template(EmailTemplate(subject="s"))


def _nested(tag: str, depth: int, inner: str = "x") -> str:
    return f"<{tag}>" * depth + inner + f"</{tag}>" * depth


DEEP_MJML = "<mjml><mj-body>" + _nested("mj-wrapper", MAX_DEPTH + 1, "") + "</mj-body></mjml>"
DEEP_HTML = "<html><body>" + _nested("div", MAX_DEPTH + 1) + "</body></html>"


@pytest.mark.parametrize(("body", "field"), [({"mjml": DEEP_MJML}, "mjml"), ({"html": DEEP_HTML}, "html")])
def test_deep_markup_is_a_source_error_at_save_and_render(body: dict[str, str], field: str) -> None:
    template = EmailTemplate(subject="s", **body)
    for attempt in (lambda: check_email_template(template), lambda: render_email(template, {})):
        with pytest.raises(TemplateSourceError, match="nested more than") as caught:
            attempt()
        assert caught.value.field == field


def test_markup_nested_by_data_is_refused_too() -> None:
    template = EmailTemplate(subject="s", html="{% for i in range(n) %}<div>{% endfor %}x")
    render_email(template, {"n": 10})
    with pytest.raises(TemplateSourceError, match="nested more than"):
        render_email(template, {"n": 5000})


def test_markup_that_would_overflow_mrml_never_reaches_it() -> None:
    """5,000 nested wrappers crash MRML with SIGSEGV (no exception to catch), so this runs in a child."""
    code = (
        "from renderers.email import EmailTemplate, render_email\n"
        "from renderers.errors import TemplateSourceError\n"
        "body = '<mjml><mj-body>' + '<mj-wrapper>' * 5000 + '</mj-wrapper>' * 5000 + '</mj-body></mjml>'\n"
        "try:\n"
        "    render_email(EmailTemplate(subject='s', mjml=body), {})\n"
        "except TemplateSourceError as error:\n"
        "    print(error)\n"
    )
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert child.returncode == 0, child.stderr
    assert "nested more than" in child.stdout


@pytest.mark.parametrize(
    ("subject", "source"),
    [
        ("Hi {{ v }}", "{{ " + "(" * 1000 + "1" + ")" * 1000 + " }}"),
        ("{{ " + "(" * 1000 + "1" + ")" * 1000 + " }}", "<p>x</p>"),
    ],
)
def test_uncompilable_jinja_names_its_part(subject: str, source: str) -> None:
    with pytest.raises(TemplateSourceError, match="cannot be compiled") as caught:
        check_email_template(EmailTemplate(subject=subject, html=source))
    assert caught.value.field == ("subject" if source == "<p>x</p>" else "html")


@pytest.mark.parametrize("value", ["Ann\x0c", "Ann\x00", "Ann\x1b[31m", "Ann\x85", "Ann\u2028"])
def test_subject_refuses_every_control_character(value: str) -> None:
    template = EmailTemplate(subject="Hello {{ name }}", html="<p>x</p>")
    with pytest.raises(RenderError, match="control character") as caught:
        render_email(template, {"name": value})
    assert caught.value.field == "subject"
    assert render_email(template, {"name": "Ann\tLee"}).subject == "Hello Ann\tLee"
