"""The other templates a render may reach: a version's pinned layout and partials, by name, as plain text.

A library is a `name -> source` mapping handed to the renderer with the part (so a render process receives
it as plain values); `{% include "footer" %}` and `{% extends %}` resolve only from it, never from files.
Names are string constants, so what a template can reach is known before it renders; the include graph must
be acyclic and at most `MAX_INCLUDE_DEPTH` deep, so a render never recurses without bound.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from jinja2 import nodes

from renderers.errors import UnsafeTemplateError

Library = Mapping[str, str]
EMAIL_LAYOUT = "@layout/email"
PDF_LAYOUT = "@layout/pdf"
"""The names of a layout's email and PDF sources in a library (partial keys cannot start with `@`)."""
MAX_INCLUDE_DEPTH = 8


def with_layout(source: str, layout: str | None) -> str:
    """The part as the `content` block of the library's `layout` (None: the part alone); the wrapper sits
    on the part's first line, so error line numbers stay the author's."""
    if layout is None:
        return source
    return '{% extends "' + layout + '" %}{% block content %}' + source + "{% endblock %}"


def referenced_names(tree: nodes.Template) -> Iterator[tuple[int, str]]:
    """(line, name) of every include and extends; a name computed at render time or an import is refused."""
    for node in tree.find_all((nodes.Import, nodes.FromImport)):
        raise UnsafeTemplateError(f"line {node.lineno}: templates cannot import macros from other templates")
    for node in tree.find_all((nodes.Include, nodes.Extends)):
        assert isinstance(node, nodes.Include | nodes.Extends)
        name = node.template
        if not (isinstance(name, nodes.Const) and isinstance(name.value, str)):
            raise UnsafeTemplateError(
                f'line {node.lineno}: include a partial by its key in quotes, as {{% include "footer" %}}'
            )
        yield node.lineno, name.value


def check_references(tree: nodes.Template, library: Library) -> None:
    """Refuse an include of anything the library does not hold (a file path, an unpinned partial)."""
    for line, name in referenced_names(tree):
        if name not in library:
            raise UnsafeTemplateError(
                f"line {line}: '{name}' is not a partial this version pins; includes resolve only from"
                " the registry's partials"
            )


def check_graph(library: Library, parse: Callable[[str], nodes.Template]) -> None:
    """Refuse a cycle of includes, or a chain deeper than `MAX_INCLUDE_DEPTH`, among the library's sources."""
    edges = {name: [to for _, to in referenced_names(parse(source))] for name, source in library.items()}

    def depth(name: str, path: tuple[str, ...]) -> int:
        if name in path:
            raise UnsafeTemplateError(f"partials include each other in a cycle: {' -> '.join((*path, name))}")
        if len(path) > MAX_INCLUDE_DEPTH:
            raise UnsafeTemplateError(f"partials are nested more than {MAX_INCLUDE_DEPTH} deep")
        return 1 + max((depth(t, (*path, name)) for t in edges.get(name, [])), default=0)

    for name in library:
        depth(name, ())
