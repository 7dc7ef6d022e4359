"""The Typst engine: data only through `sys.inputs`, the template's own files only, no packages, PDF/A,
and the same page limit as WeasyPrint, in-process and in the render pool."""

from __future__ import annotations

import io
import os
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from pypdf import PdfReader

from renderers.errors import RenderError, RenderLimitExceeded, TemplateSourceError, UnsafeTemplateError
from renderers.limits import OutputLimits, bounded_output
from renderers.pool import RenderLimits, RenderPool
from renderers.typst_pdf import TypstTemplate, check_typst_template, render_typst_pdf

ASSETS = Path(__file__).resolve().parents[2] / "templates" / "_assets"
READS_DATA = """#let data = json(bytes(sys.inputs.data))
#let shown = json(bytes(sys.inputs.formatted))
= Invoice #data.invoice.number
Note: #data.invoice.note
"""
MARKS = (
    {"path": ["invoice", "total"], "kind": "money", "currency": "/invoice/currency"},
    {"path": ["invoice", "due"], "kind": "date", "style": "long"},
    {"path": ["invoice", "lines", "*", "price"], "kind": "money", "currency": "EUR"},
)


def text_of(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def invoice(**changes: Any) -> dict[str, Any]:
    base = {"number": "INV-7", "note": "thanks", "total": "1234.5", "currency": "EUR", "due": "2024-03-31"}
    return {"invoice": {**base, **changes}}


def test_data_reaches_the_template_as_json_and_is_printed_as_written() -> None:
    attacks = ['#panic("boom")', "] #set page(width: 1cm) [", "$x^2$ *bold* `raw` <label> @ref"]
    for attack in attacks:
        pdf = render_typst_pdf(TypstTemplate(READS_DATA), invoice(note=attack))
        assert attack.split()[0] in text_of(pdf.data)
        assert pdf.pages == 1


def test_formatted_copies_follow_the_locale_and_mirror_the_data() -> None:
    source = READS_DATA + "#shown.invoice.total / #shown.invoice.due / #shown.invoice.lines.at(1).price\n"
    data = {"invoice": {**invoice()["invoice"], "lines": [{"name": "a"}, {"price": "2"}]}}
    italian = text_of(render_typst_pdf(TypstTemplate(source, MARKS), data, locale="it").data)
    english = text_of(render_typst_pdf(TypstTemplate(source, MARKS), data, locale="en").data)
    assert "1.234,50\xa0€ / 31 marzo 2024 / 2,00\xa0€" in italian  # Babel's no-break space, kept
    assert "€1,234.50 / March 31, 2024 / €2.00" in english


def test_sys_reads_as_typsts_own_module() -> None:
    """The template's `sys` is a module of this render's inputs (`renderers.typst_document`): the same
    keys and strings as Typst's own `sys.inputs`, its `version`, and importable from."""
    source = (
        "#import sys: inputs\n"
        '#sys.inputs.keys().sorted().join(",") / #type(sys) / #(sys.version >= version(0, 13)) / '
        '#inputs.locale / #sys.inputs.at("timezone")\n'
    )
    text = text_of(render_typst_pdf(TypstTemplate(source), {}, locale="it", timezone="Europe/Rome").data)
    assert "data,formatted,locale,timezone / module / true / it / Europe/Rome" in text


def test_a_module_the_template_imports_reads_the_same_inputs(tmp_path: Path) -> None:
    """`import` reaches code the template's binding of `sys` does not: Typst's own inputs carry them,
    set again whenever they differ from the compiler's last (renders of both kinds share a compiler)."""
    (tmp_path / "parts.typ").write_text(
        "#let number = json(bytes(sys.inputs.data)).invoice.number\n#let zone = sys.inputs.timezone\n"
    )
    imports = TypstTemplate('#import "parts.typ": number, zone\nNumber #number in #zone')
    for template, number in [
        (imports, "1"),
        (imports, "2"),
        (imports, "2"),
        (TypstTemplate(READS_DATA), "3"),
    ] * 2:
        text = text_of(render_typst_pdf(template, invoice(number=number), assets_dir=tmp_path).data)
        assert (f"Number {number} in UTC" if template is imports else f"Invoice {number}") in text


@pytest.mark.parametrize("above", ["", '#let two = eval("1 + 1")\n'])  # with `eval`: Typst's own inputs
def test_render_errors_name_the_templates_own_line(above: str) -> None:
    source = above + "= Title\nSome text\n#nothing-here()\n"
    with pytest.raises(
        RenderError, match=rf"unknown variable: nothing-here \(line {above.count(chr(10)) + 3}\)"
    ):
        render_typst_pdf(TypstTemplate(source), {}, assets_dir=ASSETS)


def test_a_marked_field_that_does_not_format_names_itself() -> None:
    with pytest.raises(RenderError, match=r"invoice\.total: money: cannot format"):
        render_typst_pdf(TypstTemplate(READS_DATA, MARKS), invoice(total="lots"))


def test_pdf_a_3b_with_metadata_that_passes_qpdf(tmp_path: Path) -> None:
    source = '#set document(title: "Invoice")\n#image("logo.svg", width: 3cm)\n' + READS_DATA
    pdf = render_typst_pdf(TypstTemplate(source), invoice(), assets_dir=ASSETS, pdf_variant="pdf/a-3b")
    with pikepdf.open(io.BytesIO(pdf.data)) as document:
        metadata = document.open_metadata()
        assert (metadata.get("pdfaid:part"), metadata.get("pdfaid:conformance")) == ("3", "B")
    path = tmp_path / "typst.pdf"
    path.write_bytes(pdf.data)
    check = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr


def test_a_variant_typst_cannot_write_is_refused_naming_it() -> None:
    with pytest.raises(RenderError) as caught:
        render_typst_pdf(TypstTemplate(READS_DATA), invoice(), pdf_variant="pdf/ua-1")
    assert caught.value.field == "pdf_variant"


def test_same_inputs_with_created_are_byte_identical() -> None:
    created = datetime(2024, 3, 1, 9, 30)
    first = render_typst_pdf(TypstTemplate(READS_DATA), invoice(), created=created, pdf_variant="pdf/a-3b")
    second = render_typst_pdf(TypstTemplate(READS_DATA), invoice(), created=created, pdf_variant="pdf/a-3b")
    assert first.data == second.data


@pytest.mark.parametrize(
    "source",
    [
        '#import "@preview/example:0.1.0": add\n#add(1, 2)',
        '#include "@local/letterhead:1.0.0"',
        "#import '@preview/cetz:0.3.0'",
    ],
)
def test_package_imports_are_refused_before_compiling(source: str) -> None:
    for call in (
        lambda: check_typst_template(TypstTemplate(source)),
        lambda: render_typst_pdf(TypstTemplate(source), {}),
    ):
        with pytest.raises(UnsafeTemplateError, match="package imports are not allowed") as caught:
            call()
        assert caught.value.field == "typst"


@pytest.mark.parametrize(
    "source",
    [
        '#let name = "@" + "preview/example:0.1.0"\n#import name: add\n#add(1, 2)',
        # `eval` and `import` by other names: `std` alone makes the render take the closed proxy
        '#let run = dictionary(std).at("ev" + "al")\n'
        '#run("#let n = \\"@\\" + \\"preview/example:0.1.0\\"\\n#im" + "port n: add\\n#add(1, 2)",'
        ' mode: "markup")',
    ],
)
def test_a_package_named_at_run_time_is_not_fetched(source: str) -> None:
    with pytest.raises(UnsafeTemplateError, match="package imports are not allowed") as caught:
        render_typst_pdf(TypstTemplate(source), {})
    assert "Connection refused" in caught.value.message  # the download went to the closed local proxy
    assert os.environ.get("HTTPS_PROXY") != "http://127.0.0.1:9"  # the closed proxy was only for the compile


@pytest.mark.parametrize(
    "source", ['#read("../README.md")', '#image("/../../etc/passwd")', '#read("/../schema.json")']
)
def test_files_outside_the_root_are_refused(source: str) -> None:
    with pytest.raises(UnsafeTemplateError, match="only the template's own files"):
        render_typst_pdf(TypstTemplate(source), {}, assets_dir=ASSETS)


def test_absolute_paths_stay_inside_the_root() -> None:
    with pytest.raises(RenderError, match="file not found") as caught:
        render_typst_pdf(TypstTemplate('#read("/etc/passwd")'), {}, assets_dir=ASSETS)
    assert "root:" not in caught.value.message


def test_a_root_with_a_link_leading_out_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret").symlink_to("/etc/passwd")
    with pytest.raises(UnsafeTemplateError, match="links outside itself"):
        render_typst_pdf(TypstTemplate("hello"), {}, assets_dir=tmp_path)


def test_system_fonts_are_not_used() -> None:
    assert Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf").exists()  # installed on this host
    pdf = render_typst_pdf(TypstTemplate('#set text(font: "DejaVu Sans")\nhello'), {})
    with pikepdf.open(io.BytesIO(pdf.data)) as document:
        fonts = [
            str(o.BaseFont)
            for o in document.objects
            if isinstance(o, pikepdf.Dictionary) and "/BaseFont" in o
        ]
    assert fonts
    assert not any("DejaVuSans" in font.replace("-", "") for font in fonts), fonts


def test_syntax_errors_are_reported_with_their_line_at_save_time() -> None:
    with pytest.raises(TemplateSourceError, match=r"unclosed delimiter \(line 2\)"):
        check_typst_template(TypstTemplate("= Title\n#table(columns: 2, [a]"))
    check_typst_template(TypstTemplate(READS_DATA))  # reads sys.inputs it does not get at save time: fine


def test_a_5000_page_loop_stops_at_the_page_limit() -> None:
    loop = TypstTemplate("#for i in range(5000) [page #i #pagebreak()]")
    with bounded_output(OutputLimits(pdf_pages=50)), pytest.raises(RenderLimitExceeded) as caught:
        render_typst_pdf(loop, {})
    assert caught.value.limit == "pdf_pages"
    assert "at most 50" in caught.value.message


def test_the_page_limit_holds_in_the_render_pool() -> None:
    pool = RenderPool(RenderLimits(cpu_seconds=20, timeout_seconds=60, output=OutputLimits(pdf_pages=200)))
    try:
        with pytest.raises(RenderLimitExceeded) as caught:
            pool.run("test", render_typst_pdf, TypstTemplate("#for i in range(5000) [x #pagebreak()]"), {})
        assert caught.value.limit == "pdf_pages"
        ok = pool.run("test", render_typst_pdf, TypstTemplate(READS_DATA), invoice())
        assert ok.pages == 1
    finally:
        pool.close()


def test_a_typst_burn_is_stopped_at_the_cpu_limit_in_the_render_pool() -> None:
    """Typst computes in native code, where the pool's Python SIGXCPU handler cannot run: still `cpu`."""
    burn = TypstTemplate("#let n = 0\n#for i in range(20000) { for j in range(20000) { n = n + 1 } }\n#n")
    pool = RenderPool(RenderLimits(cpu_seconds=1, timeout_seconds=120))
    try:
        with pytest.raises(RenderLimitExceeded) as caught:
            pool.run("test", render_typst_pdf, burn, {})
        assert caught.value.limit == "cpu"
    finally:
        pool.close()
