"""SMS encoding choice and segment boundaries, as carriers count them."""

import pytest

from renderers.errors import RenderError
from renderers.sms import analyse_sms, render_sms, ucs2_characters


@pytest.mark.parametrize(
    ("text", "encoding", "segments", "units"),
    [
        ("a" * 160, "GSM-7", 1, 160),
        ("a" * 161, "GSM-7", 2, 161),
        ("a" * 306, "GSM-7", 2, 306),
        ("a" * 307, "GSM-7", 3, 307),
        ("€" * 80, "GSM-7", 1, 160),
        ("€" * 81, "GSM-7", 2, 162),
        ("^{}\\[~]|\f", "GSM-7", 1, 18),
        ("é" * 70 + "ü", "GSM-7", 1, 71),
        ("ç", "UCS-2", 1, 1),
        ("Ç", "GSM-7", 1, 1),
        ("ж" * 70, "UCS-2", 1, 70),
        ("ж" * 71, "UCS-2", 2, 71),
        ("ж" * 134, "UCS-2", 2, 134),
        ("ж" * 135, "UCS-2", 3, 135),
        ("😀" * 35, "UCS-2", 1, 70),
        ("Grüße aus München! Preis: 12 €", "GSM-7", 1, 31),
        ("Perché è così? Può darsi.", "GSM-7", 1, 25),
        ("Straße \u2013 Gedankenstrich", "UCS-2", 1, 23),
        ("", "GSM-7", 0, 0),
    ],
)
def test_encoding_and_counts(text: str, encoding: str, segments: int, units: int) -> None:
    analysis = analyse_sms(text)
    assert (analysis.encoding, analysis.segments, analysis.units) == (encoding, segments, units)
    assert "".join(analysis.parts) == text


def test_escape_pair_never_split() -> None:
    text = "a" * 152 + "€" + "b" * 152
    analysis = analyse_sms(text)
    assert analysis.parts[0] == "a" * 152
    assert analysis.parts[1].startswith("€")
    assert analysis.segments == 3


def test_escape_on_exact_boundary_fits() -> None:
    analysis = analyse_sms("a" * 151 + "€" + "b" * 153)
    assert [len(part) for part in analysis.parts] == [152, 153]


def test_surrogate_pair_never_split() -> None:
    analysis = analyse_sms("a" * 66 + "😀" + "b" * 10)
    assert analysis.encoding == "UCS-2"
    assert analysis.parts[0] == "a" * 66
    assert analysis.parts[1].startswith("😀")
    assert all(sum(2 if ord(c) > 0xFFFF else 1 for c in part) <= 67 for part in analysis.parts)


def test_render_sms_normalises_babel_spaces() -> None:
    rendered = render_sms("Totale {{ 1234.5 | money('EUR') }}\n", {}, locale="it")
    assert rendered.text == "Totale 1.234,50 €"
    assert (rendered.encoding, rendered.segments) == ("GSM-7", 1)


def test_empty_sms_is_an_error() -> None:
    with pytest.raises(RenderError, match="empty"):
        render_sms("{% if false %}x{% endif %}  \n", {})


def test_the_characters_that_force_ucs2_are_named_once_with_their_first_position() -> None:
    text = "Caf\u00e9 \u2019ok\u2019 \u20ac5 \U0001f600"  # é and € are GSM (€ in the extension table)
    assert analyse_sms(text).encoding == "UCS-2"
    assert ucs2_characters(text) == (("\u2019", 6), ("\U0001f600", 14))
    assert ucs2_characters("plain GSM text [with] {extension} ~characters~") == ()
    assert len(ucs2_characters("".join(chr(0x0410 + i) for i in range(40)), limit=20)) == 20
