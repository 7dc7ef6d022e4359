"""The nesting bound that keeps MRML and css-inline, which recurse per level, from overflowing the stack."""

import pytest

from renderers.errors import TemplateSourceError
from renderers.nesting import MAX_DEPTH, check_nesting, nesting_depth


@pytest.mark.parametrize(
    ("markup", "html", "depth"),
    [
        ("<div><p>a</p><p>b</p></div>", True, 2),
        ("<ul><li>a<li>b<li>c</ul>", True, 2),  # HTML's implied end tags
        ("<p>a<p>b<p>c", True, 1),
        ("<table>" + "<tr><td>a<td>b" * 300 + "</table>", True, 3),
        ("<table><tr><td><table><tr><td>a<tr><td>b</table><tr><td>c</table>", True, 6),
        ("<ul><li><ul><li>a<li>b</ul><li>c</ul>", True, 4),
        ("<p>a<p>b<p>c", False, 3),  # MRML parses MJML as XML: an unclosed <p> nests
        ("<td><br><img src='a>b'><mj-image src=\"x\" /></td>", True, 1),  # void, self-closing, quoted >
        ("<div><!-- <div><div><div> --><![CDATA[<div><div>]]></div>", True, 1),
        ("<a<a<a<a", True, 0),  # not tags at all
        ("", True, 0),
    ],
)
def test_depth(markup: str, html: bool, depth: int) -> None:
    assert nesting_depth(markup, html=html) == depth


def test_counting_stops_past_the_limit() -> None:
    assert nesting_depth("<div>" * 10_000, html=True, limit=5) == 6


def test_check_names_the_field() -> None:
    check_nesting("<div>" * MAX_DEPTH + "</div>" * MAX_DEPTH, html=True, field="html")
    with pytest.raises(TemplateSourceError, match=f"more than {MAX_DEPTH} levels") as caught:
        check_nesting("<div>" * (MAX_DEPTH + 1), html=True, field="html")
    assert caught.value.field == "html"


def test_adversarial_markup_is_linear() -> None:
    """Would-be tags with no `>`: one pass, not one scan to the end per `<` (that would never finish)."""
    assert nesting_depth("<a " * 300_000, html=True) == 0
