"""PDF rendering: personalised text, page count, locked-down fetching, PDF/A and byte determinism."""

import io
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pikepdf
import pytest
from pypdf import PdfReader

from renderers.errors import MissingVariableError, RenderError, TemplateSourceError, UnsafeTemplateError
from renderers.pdf import PdfTemplate, check_pdf_template, render_pdf

SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'
CSS = "@page { size: A4; margin: 2cm; @bottom-center { content: counter(page) ' / ' counter(pages) } }"
TEMPLATE = PdfTemplate(
    html="<h1>Hello {{ name }}</h1><p>{{ 12.5 | money('EUR') }}</p><img src='logo.svg'>", css=CSS
)
CREATED = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def assets(tmp_path: Path) -> Path:
    (tmp_path / "logo.svg").write_text(SVG)
    (tmp_path / "escape.svg").symlink_to("/etc/passwd")
    return tmp_path


def text_of(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def qpdf_check(data: bytes, tmp_path: Path) -> None:
    target = tmp_path / "out.pdf"
    target.write_bytes(data)
    result = subprocess.run(["/usr/bin/qpdf", "--check", str(target)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_renders_personalised_pdf(assets: Path, tmp_path: Path) -> None:
    rendered = render_pdf(TEMPLATE, {"name": "Zoë <3"}, locale="it", assets_dir=assets)
    assert rendered.pages == 1
    text = text_of(rendered.data)
    assert "Hello Zoë <3" in text
    assert "12,50" in text
    assert "1 / 1" in text
    qpdf_check(rendered.data, tmp_path)


def test_same_inputs_with_created_are_byte_identical(assets: Path) -> None:
    first = render_pdf(TEMPLATE, {"name": "A"}, assets_dir=assets, created=CREATED)
    assert first.data == render_pdf(TEMPLATE, {"name": "A"}, assets_dir=assets, created=CREATED).data
    assert PdfReader(io.BytesIO(first.data)).metadata.creation_date == CREATED  # type: ignore[union-attr]


def test_pdf_a_3b(assets: Path, tmp_path: Path) -> None:
    rendered = render_pdf(TEMPLATE, {"name": "A"}, assets_dir=assets, pdf_variant="pdf/a-3b", created=CREATED)
    with pikepdf.open(io.BytesIO(rendered.data)) as pdf:
        assert pdf.open_metadata().pdfa_status == "3B"
    qpdf_check(rendered.data, tmp_path)
    with pytest.raises(RenderError, match="variant"):
        render_pdf(TEMPLATE, {"name": "A"}, assets_dir=assets, pdf_variant="pdf/z")


@pytest.mark.parametrize(
    ("html", "url"),
    [
        ("<img src='file:///etc/passwd'>", "file:///etc/passwd"),
        ("<img src='http://127.0.0.1/x.png'>", "http://127.0.0.1/x.png"),
        ("<link rel='stylesheet' href='https://evil.test/a.css'>x", "https://evil.test/a.css"),
        ("<style>@import url(http://127.0.0.1/a.css);</style>x", "http://127.0.0.1/a.css"),
        ("<div style=\"background: url('file:///etc/passwd')\">x</div>", "file:///etc/passwd"),
        ("<img src='escape.svg'>", "escape.svg"),
    ],
)
def test_forbidden_fetches_fail_naming_the_url(assets: Path, html: str, url: str) -> None:
    with pytest.raises(UnsafeTemplateError, match=url.replace(".", r"\.")):
        render_pdf(PdfTemplate(html=html), {}, assets_dir=assets)


def test_assets_need_an_assets_dir_and_must_exist(assets: Path) -> None:
    with pytest.raises(UnsafeTemplateError, match="no assets folder"):
        render_pdf(TEMPLATE, {"name": "A"})
    with pytest.raises(RenderError, match="asset not found"):
        render_pdf(PdfTemplate(html="<img src='missing.png'>"), {}, assets_dir=assets)


def test_data_uri_allowed() -> None:
    image = "<img src='data:image/svg+xml;utf8," + SVG.replace("'", "") + "'>"
    assert render_pdf(PdfTemplate(html=image), {}).pages == 1


def test_errors_from_jinja(assets: Path) -> None:
    with pytest.raises(MissingVariableError) as caught:
        render_pdf(TEMPLATE, {}, assets_dir=assets)
    assert caught.value.field == "pdf"
    with pytest.raises(TemplateSourceError):
        check_pdf_template(PdfTemplate(html="{% if %}"))
