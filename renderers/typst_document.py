"""How one render's source and `sys.inputs` reach the Typst compiler: as files, not as Typst's own inputs.

Typst keeps `sys.inputs` in its standard library, so new inputs rebuild the library and invalidate every
cached evaluation and layout: ~1 ms of a ~7 ms invoice, paid on every PDF. So the compiler's own inputs
stay empty, and the template is compiled as `main.typ` below one line that binds `sys` to a module of this
render's inputs (`sys.inputs` a dictionary of the same strings, `sys.version` Typst's), each read from a
file handed over with the source. The template reads `sys.inputs.data` exactly as before, and the parts of
the page that do not depend on the data (the letterhead, the logo, fixed text) stay cached across renders.

A template that may reach code outside its own text, where that binding does not reach, gets Typst's own
`sys.inputs` instead: the slower way, with the same result. That is one naming `import`, `include`,
`eval` or `std` (through which `eval` and Typst's own `sys` are reached by any name). Only such code can
name a package, so a template without these words cannot start a download.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

MAIN = "main.typ"
"""The name the compiler gives the template (`main.typ:3:5` in its diagnostics)."""
INPUTS = "__ccm_inputs__"
"""The folder of this render's input files, beside the template's assets (virtual: nothing is written)."""
_OTHER_CODE = re.compile(r"\b(?:import|include|eval|std)\b")


@dataclass(frozen=True)
class TypstDocument:
    """What one compile is given: the files (`main.typ` first), Typst's own `sys.inputs`, how many lines
    sit above the template's first (to report its line numbers as the author wrote them), and whether the
    template is all its own code (then it can name no package, so nothing can be downloaded)."""

    files: dict[str, bytes]
    sys_inputs: dict[str, str] = field(default_factory=dict)
    lines_above: int = 0
    self_contained: bool = False


def typst_document(source: str, inputs: Mapping[str, str]) -> TypstDocument:
    """The template and its inputs as the compiler gets them (see the module's docstring)."""
    if not _self_contained(source):
        return TypstDocument({MAIN: _utf8(source)}, dict(inputs))
    files = {f"{INPUTS}/{index}": _utf8(value) for index, value in enumerate(inputs.values())}
    entries = ", ".join(f'{_string(name)}: read("/{INPUTS}/{index}")' for index, name in enumerate(inputs))
    module = f"#let inputs = ({entries or ':'})\n#let version = std.sys.version\n"
    binding = f'#import "/{INPUTS}/sys.typ" as sys\n'
    main = {MAIN: _utf8(binding + source), f"{INPUTS}/sys.typ": _utf8(module)}
    return TypstDocument({**main, **files}, lines_above=1, self_contained=True)


@lru_cache(maxsize=64)
def _self_contained(source: str) -> bool:
    """Cached: the search takes ~50 us of a 3 kB source, and a billing run renders one source throughout."""
    return not _OTHER_CODE.search(source)


def _string(text: str) -> str:
    """A Typst string literal (Typst has no `\\uXXXX` escape, so not JSON's)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")
