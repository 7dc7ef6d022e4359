"""The sandboxed Jinja environments every channel renders through, with a compile cache and error mapping."""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import DictLoader, nodes
from jinja2.exceptions import SecurityError, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from renderers.errors import MissingVariableError, RenderError, TemplateSourceError, UnsafeTemplateError
from renderers.filters import FILTERS
from renderers.library import Library, check_graph, check_references, referenced_names
from renderers.localisation import SETTINGS_KEY, render_settings
from renderers.sandbox_bounds import (
    ConcatBounder,
    bounded_concat,
    bounded_lipsum,
    check_call,
    check_format_widths,
    check_printf,
)
from renderers.undefined import PathUndefined, UndefinedAccess, locate

#: Output larger than this is refused: a runaway loop, not a letter.
MAX_OUTPUT_CHARS = 5_000_000
_FORBIDDEN_NODES = (nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)


class CcmEnvironment(ImmutableSandboxedEnvironment):
    """Immutable sandbox that also bounds `*` and `**`, which would otherwise allocate without limit."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        """Refuse `'x' * 10**9` and `9 ** 9 ** 9` before Python tries to build them."""
        if operator == "%" and isinstance(left, str):
            check_printf(left, right)
        if operator == "**" and isinstance(right, int) and abs(right) > 1_000:
            raise SecurityError("exponent too large")
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                sized = isinstance(seq, str | list | tuple) and isinstance(count, int)
                if sized and len(seq) * count > MAX_OUTPUT_CHARS:
                    raise SecurityError("repeated sequence too large")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        """Refuse `'x'.ljust(10**9)` and the other paddings before Python allocates them."""
        check_call(__obj, args)
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Any:
        """Refuse `'{:>999999999}'.format(...)` widths when the method is looked up."""
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            check_format_widths(value.__self__)
        return wrapped


def _environment(*, autoescape: bool) -> CcmEnvironment:
    """No loader at all: nothing can reach the filesystem, and include/import are refused at compile time."""
    return _configured(CcmEnvironment(**_options(autoescape)))


def _options(autoescape: bool) -> dict[str, Any]:
    return {
        "autoescape": autoescape,
        "undefined": PathUndefined,
        "trim_blocks": not autoescape,
        "lstrip_blocks": not autoescape,
        "auto_reload": False,
    }


def _configured(env: CcmEnvironment) -> CcmEnvironment:
    """The filters and bounded globals every sandbox of ours has."""
    env.filters.update(FILTERS)
    env.globals["lipsum"] = bounded_lipsum
    env.globals["__ccm_concat"] = bounded_concat
    return env


HTML_ENV = _environment(autoescape=True)
TEXT_ENV = _environment(autoescape=False)


class LibraryEnvironment(CcmEnvironment):
    """A sandbox whose only loader is a version's library (pinned layout and partials, by name): every
    source it parses, the part's and each included one's, is checked and bounded like a lone template."""

    library: Library

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        check_references(tree, self.library)
        return ConcatBounder(bool(self.autoescape)).visit(tree)  # type: ignore[no-any-return]


@lru_cache(maxsize=64)
def _library_environment(library: tuple[tuple[str, str], ...], autoescape: bool) -> LibraryEnvironment:
    """One environment per library, cached: a version's pins compile once; the graph is checked here."""
    env = LibraryEnvironment(**_options(autoescape), loader=DictLoader(dict(library)))
    env.library = dict(library)
    _configured(env)
    check_graph(env.library, env.parse)
    return env


def _syntax_error(exc: TemplateSyntaxError) -> TemplateSourceError:
    return TemplateSourceError(f"syntax error on line {exc.lineno}: {exc.message}")


def _uncompilable(exc: Exception) -> TemplateSourceError:
    """Python's own limits, reached by the source alone (deep nesting, huge literals): the author's to fix."""
    if isinstance(exc, RecursionError):
        reason = "expressions or blocks are nested too deeply"
    elif isinstance(exc, MemoryError):
        reason = "it is too large"
    elif isinstance(exc, SyntaxError):  # Python's compile() of the generated code: nesting limits
        reason = f"blocks are nested too deeply ({exc.msg})"
    else:
        reason = f"{type(exc).__name__}: {exc}"
    return TemplateSourceError(f"the template cannot be compiled: {reason}")


def _refuse_includes(tree: nodes.Template) -> None:
    for node in tree.find_all(_FORBIDDEN_NODES):
        raise UnsafeTemplateError(
            f"line {node.lineno}: templates cannot include, import or extend other templates "
            "(there is no template loader)"
        )


@lru_cache(maxsize=1024)
def _compile(source: str, autoescape: bool, library: tuple[tuple[str, str], ...] = ()) -> Any:
    """Parse, refuse includes, compile; cached by source so a template version compiles once.

    Every failure is a RenderError: Jinja's parser and code generator recurse once per nesting level and
    Python's `compile()` has limits of its own, so `{{ ((((…)))) }}` would otherwise escape as a
    RecursionError or SyntaxError and turn an authoring mistake into a 500.
    """
    env = HTML_ENV if autoescape else TEXT_ENV
    try:
        if library:
            return _library_environment(library, autoescape).from_string(source)
        tree = env.parse(source)
        _refuse_includes(tree)
        tree = ConcatBounder(autoescape).visit(tree)
        return env.from_string(tree)
    except TemplateSyntaxError as exc:
        raise _syntax_error(exc) from None
    except RenderError:
        raise
    except Exception as exc:  # RecursionError, MemoryError, SyntaxError, ValueError (a 5,000-digit literal)
        raise _uncompilable(exc) from None


def check_syntax(source: str, library: Library | None = None) -> None:
    """Validate a template part when it is saved, long before anyone renders it."""
    _compile(source, False, _library_key(library))


def included_names(source: str) -> list[str]:
    """The partial keys a source includes by name, in order, each once; a source that does not parse
    names none here (saving it reports the syntax error with its field)."""
    try:
        tree = TEXT_ENV.parse(source)
    except Exception:  # syntax errors, nesting limits: `check_syntax` reports them
        return []
    names = [n.template.value for n in tree.find_all(nodes.Include) if isinstance(n.template, nodes.Const)]
    return list(dict.fromkeys(name for name in names if isinstance(name, str)))


def check_library_source(source: str, *, block: str | None = None) -> None:
    """A layout's or partial's source, when it is saved or submitted: it compiles in the sandbox (unknown
    filters and tests too, which parsing lets through), includes partials by name only, and (a layout) has
    the `block` the template's part fills."""
    try:
        tree = TEXT_ENV.parse(source)
        for _ in referenced_names(tree):
            pass
        TEXT_ENV.compile(tree)
    except TemplateSyntaxError as exc:
        raise _syntax_error(exc) from None
    except RenderError:
        raise
    except Exception as exc:
        raise _uncompilable(exc) from None
    if block is not None and not any(b.name == block for b in tree.find_all(nodes.Block)):
        raise TemplateSourceError(
            f"a layout needs {{% block {block} %}}{{% endblock %}} where the content goes"
        )


def _library_key(library: Library | None) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(library.items())) if library else ()


def _template_line(exc: BaseException) -> int | None:
    """Jinja rewrites tracebacks so template frames carry template line numbers; take the innermost."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == "<template>"]
    return frames[-1].lineno if frames else None


def _join_bounded(chunks: Any) -> str:
    parts: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_OUTPUT_CHARS:
            raise RenderError(f"output exceeds {MAX_OUTPUT_CHARS} characters")
        parts.append(chunk)
    return "".join(parts)


def render_text(
    source: str,
    context: Mapping[str, Any],
    *,
    locale: str = "en",
    timezone: str = "UTC",
    autoescape: bool = False,
    library: Library | None = None,
) -> str:
    """Render one template part; every failure comes out as a RenderError subclass. `{% include %}` and
    `{% extends %}` reach only `library`'s sources (`renderers.library`); without one they are refused."""
    settings = render_settings(locale, timezone)
    template = _compile(source, autoescape, _library_key(library))
    variables = {**context, SETTINGS_KEY: settings}
    try:
        return _join_bounded(template.generate(variables))
    except UndefinedAccess as exc:
        owner = None if exc.owner is None else locate(context, exc.owner)
        path = f"{owner}.{exc.path}" if owner else exc.path
        raise MissingVariableError(path, line=_template_line(exc)) from None
    except RenderError:
        raise
    except SecurityError as exc:
        raise UnsafeTemplateError(str(exc)) from None
    except TemplateSyntaxError as exc:
        raise _syntax_error(exc) from None
    except Exception as exc:
        line = _template_line(exc)
        where = f" on line {line}" if line else ""
        raise RenderError(f"{type(exc).__name__}{where}: {exc}") from None
