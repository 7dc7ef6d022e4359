"""PDF rendering with Typst (PyPI `typst`): the volume engine, ~10x faster than WeasyPrint on an invoice.

Nothing is templated into the source: the render context reaches the template as JSON through
`sys.inputs` (`renderers.typst_inputs`: `data`, `formatted`, `locale`, `timezone`), read with
`json(bytes(sys.inputs.data))`, so data reading `#panic()` or `] #set page(...)` prints as written.

What a template reaches: files under its root, the assets folder (`image("logo.svg")`; Typst refuses paths
outside its root, and a root with a symlink leading out is refused); fonts in that folder's `fonts/` plus
Typst's embedded ones (Libertinus Serif, New Computer Modern, DejaVu Sans Mono), never the system's, so a
template renders the same on every host. Packages: a `"@namespace/name:version"` string is refused before
compiling; the compiler's package folders are empty ones of its own and its downloads go to a closed proxy,
so a package named at run time is not fetched either. One compiler per root is reused across renders (it
keeps fonts and caches). The page limit (`renderers.limits`) is checked by a guard appended to the source,
which stops before the PDF is written, and again on the PDF.
"""

from __future__ import annotations

import io
import os
import re
import signal
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import pypdf
import typst

from renderers.errors import RenderError, RenderLimitExceeded, TemplateSourceError, UnsafeTemplateError
from renderers.limits import check_pdf_pages, pdf_page_limit
from renderers.localisation import render_settings
from renderers.pdf import RenderedPdf
from renderers.typst_document import MAIN, TypstDocument, typst_document
from renderers.typst_inputs import Mark, typst_inputs

FIELD = "typst"
"""The part field Typst errors sit in (`pdf.typst` in API errors)."""
PACKAGE = re.compile(r"""["']\s*@[^"'\s/]*/""")
"""A package specifier (`"@preview/name:1.0.0"`, `"@local/..."`) in a string literal."""
Standard = Literal["a-1b", "a-2b", "a-3b", "a-2u", "a-3u", "a-4"]
VARIANTS: dict[str, Standard] = {
    "pdf/a-1b": "a-1b",
    "pdf/a-2b": "a-2b",
    "pdf/a-3b": "a-3b",
    "pdf/a-2u": "a-2u",
    "pdf/a-3u": "a-3u",
    "pdf/a-4b": "a-4",
}
"""WeasyPrint's names of the PDF/A variants (`CCM_PDF_VARIANT`) and Typst's for the same standard."""
_PAGE_GUARD = "ccm-page-limit"
_PARSED = "ccm-parsed"
_WHERE = re.compile(r"\bmain\.typ:(\d+):(\d+)")
_CLOSED_PROXY = "http://127.0.0.1:9"
_PAGE_TREE = re.compile(rb"<<\s*/Type\s*/Pages\s*/Count\s+(\d+)")
_PROXY_VARIABLES = ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY")


@dataclass(frozen=True)
class TypstTemplate:
    """A Typst document that reads its data from `sys.inputs`, and the contract's formatted fields."""

    source: str
    marks: tuple[Mark, ...] = ()


def check_typst_template(template: TypstTemplate) -> None:
    """At save time: no package import, and the source parses (TemplateSourceError with the line)."""
    _refuse_packages(template.source)
    try:  # Typst reports syntax errors before it evaluates anything: a first-line panic means it parsed
        source = f'#panic("{_PARSED}")\n{template.source}'  # evaluation stops at once: nothing is fetched,
        document = TypstDocument({MAIN: source.encode("utf-8", "surrogatepass")}, lines_above=1)
        _compile(_compiler(None), document, None, None, offline=False)  # so the process env stays as is
    except typst.TypstError as error:
        if _PARSED not in str(error):
            line = _line(error, 1)
            where = f" (line {line})" if line else ""
            raise TemplateSourceError(f"Typst: {error.message}{where}", field=FIELD) from None


def render_typst_pdf(
    template: TypstTemplate,
    context: Mapping[str, Any],
    *,
    locale: str = "en",
    timezone: str = "UTC",
    assets_dir: Path | None = None,
    pdf_variant: str | None = None,
    created: datetime | None = None,
) -> RenderedPdf:
    """One personalised PDF; with `created` set the same inputs give byte-identical output."""
    if pdf_variant is not None and pdf_variant not in VARIANTS:
        raise RenderError(
            f"PDF variant {pdf_variant!r} is not one the Typst engine writes", field="pdf_variant"
        )
    _refuse_packages(template.source)
    inputs = typst_inputs(context, template.marks, render_settings(locale, timezone))
    limit = pdf_page_limit()
    guard = "" if limit is None else f'\n#context if here().page() > {limit} {{ panic("{_PAGE_GUARD}") }}\n'
    document = typst_document(template.source + guard, inputs)
    timestamp = None if created is None else _seconds(created)
    standard = VARIANTS[pdf_variant] if pdf_variant else None
    try:
        data = _compile(_compiler(assets_dir), document, standard, timestamp)
    except typst.TypstError as error:
        raise _failure(error, limit, document.lines_above) from None
    pages = _pages(data)
    try:
        check_pdf_pages(pages)
    except RenderLimitExceeded as error:
        error.field = FIELD
        raise
    return RenderedPdf(data=data, pages=pages)


def _refuse_packages(source: str) -> None:
    line = _package_line(source)
    if line:
        raise UnsafeTemplateError(
            f"package imports are not allowed (line {line}): a template uses only its own files", field=FIELD
        )


@lru_cache(maxsize=64)
def _package_line(source: str) -> int | None:
    """The line of the first package specifier; a billing run renders one source thousands of times."""
    found = PACKAGE.search(source)
    return source.count("\n", 0, found.start()) + 1 if found else None


@dataclass
class _Compiler:
    compiler: typst.Compiler
    lock: threading.Lock
    sys_inputs: dict[str, str] | None = field(default_factory=dict)
    """Typst's own `sys.inputs` as last set (None: unknown), kept until a compile sets others."""


_compilers: dict[str, _Compiler] = {}
_by_folder: dict[Path | None, _Compiler] = {}
_compilers_lock = threading.Lock()
_empty: Path | None = None


def _empty_folder() -> Path:
    """A folder of this process's with nothing in it: the root without assets and the package folders."""
    global _empty
    if _empty is None:
        _empty = Path(tempfile.mkdtemp(prefix="ccm-typst-"))
    return _empty


def _compiler(assets_dir: Path | None) -> _Compiler:
    """The compiler for this root, made once: fonts are loaded and files cached across renders (found by
    the folder as given first: resolving it costs a system call per path step)."""
    found = _by_folder.get(assets_dir)
    if found is not None:
        return found
    root = (assets_dir or _empty_folder()).resolve()
    with _compilers_lock:
        found = _compilers.get(str(root))
        if found is None:
            _check_root(root)
            fonts = [str(root / "fonts")] if (root / "fonts").is_dir() else []
            packages = str(_empty_folder())
            compiler = typst.Compiler(
                root=str(root),
                font_paths=fonts,
                ignore_system_fonts=True,
                package_path=packages,
                package_cache_path=packages,
            )
            found = _compilers[str(root)] = _Compiler(compiler, threading.Lock())
        if assets_dir is None or assets_dir.is_absolute():  # a relative one depends on the working folder
            _by_folder[assets_dir] = found
        return found


def _check_root(root: Path) -> None:
    """Typst follows symlinks inside its root: one leading out of it would open a door to the host."""
    for path in root.rglob("*"):
        if path.is_symlink() and not path.resolve().is_relative_to(root):
            raise UnsafeTemplateError(f"the assets folder links outside itself: {path.name}", field="typst")


def _compile(
    found: _Compiler,
    document: TypstDocument,
    standard: Standard | None,
    timestamp: int | None,
    *,
    offline: bool = True,
) -> bytes:
    """Typst's own `sys.inputs` are passed only when they differ from the compiler's (a call without them
    keeps the previous ones; setting them costs ~1 ms, see `renderers.typst_document`). `offline` points
    downloads at a closed port through the process environment (unless the document can start none): a
    render runs alone in its render process, while the save-time parse check runs in the service's (where
    other threads read the environment)."""
    standards: list[Standard] = [standard] if standard else []
    closed = _offline() if offline and not document.self_contained else nullcontext()
    with found.lock, closed, _cpu_limit_kills():
        previous, found.sys_inputs = found.sys_inputs, None  # unknown, should the call fail before Typst
        same = document.sys_inputs == previous
        files: Any = document.files  # typst-py takes a dict of files too (its stub names paths and bytes)
        try:
            data = found.compiler.compile(
                input=files,
                format="pdf",
                sys_inputs=... if same else document.sys_inputs,  # `...`: keep the compiler's
                pdf_standards=standards,  # type: ignore[arg-type]  # a list of these literals, as documented
                timestamp=timestamp,
                pdf_tags=False,  # untagged, as WeasyPrint's PDF/A-3b: tags cost ~15% of an invoice
            )
        except typst.TypstError:  # an error of the document's: Typst had taken the inputs before it began
            found.sys_inputs = document.sys_inputs
            raise
        found.sys_inputs = document.sys_inputs
    if not isinstance(data, bytes):  # pragma: no cover - a PDF is one file (images would be one per page)
        raise RenderError("Typst returned no PDF", field=FIELD)
    return data


@contextmanager
def _cpu_limit_kills() -> Iterator[None]:
    """The render pool's CPU limit arrives as SIGXCPU, whose Python handler runs only once Typst's compile
    (native code) returns; for its duration the signal's default action ends the process at once, which
    the pool reports as the `cpu` limit."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGXCPU, signal.SIG_DFL)
    try:
        yield
    finally:
        signal.signal(signal.SIGXCPU, signal.SIG_DFL if previous is None else previous)


@contextmanager
def _offline() -> Iterator[None]:
    """Any download Typst attempts goes to a closed local port (its downloader honours the proxy settings)."""
    saved = {name: os.environ.get(name) for name in (*_PROXY_VARIABLES, "no_proxy", "NO_PROXY")}
    for name in _PROXY_VARIABLES:
        os.environ[name] = _CLOSED_PROXY
    os.environ.pop("no_proxy", None)
    os.environ.pop("NO_PROXY", None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _failure(error: typst.TypstError, limit: int | None, lines_above: int) -> RenderError:
    message = str(error.message)
    if _PAGE_GUARD in message:
        return RenderLimitExceeded(
            "pdf_pages", f"the document has more than {limit} pages; at most {limit} are allowed", field=FIELD
        )
    if message.startswith(("failed to download package", "package not found")):
        return UnsafeTemplateError(f"package imports are not allowed: {message}", field=FIELD)
    if "escape the project root" in message:
        return UnsafeTemplateError(f"only the template's own files may be read: {message}", field=FIELD)
    line = _line(error, lines_above)
    return RenderError(f"Typst: {message}" + (f" (line {line})" if line else ""), field=FIELD)


def _line(error: typst.TypstError, lines_above: int) -> int | None:
    """The template's line the error points at (none when it lies in another file or above the template)."""
    found = _WHERE.search(str(getattr(error, "diagnostic", "") or ""))
    line = int(found.group(1)) - lines_above if found else 0
    return line if line > 0 else None


def _pages(data: bytes) -> int:
    """The page count: Typst writes the page tree as its first object (read in microseconds); a PDF laid
    out otherwise is read with pypdf (its page tree's count: walking 60 pages would cost 25 ms)."""
    found = _PAGE_TREE.search(data, 0, 512)
    if found:
        return int(found.group(1))
    try:  # pragma: no cover - a Typst release that orders its objects differently
        tree: Any = pypdf.PdfReader(io.BytesIO(data)).root_object["/Pages"]
        return int(tree.get_object()["/Count"])
    except Exception as error:  # pragma: no cover
        raise RenderError(f"the PDF's pages could not be counted: {error}", field=FIELD) from error


def _seconds(moment: datetime) -> int:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return int(aware.timestamp())
