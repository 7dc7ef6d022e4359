"""Which data variables a template's Jinja sources use, found by walking their syntax trees.

`{{ invoice.number }}` uses the path `invoice.number`; `{% for line in invoice.lines %}{{ line.amount }}`
uses `invoice.lines[].amount` (`[]`: every item). Names the template binds itself (loop targets, `set`,
macros and their arguments, `with`) are not data, nor is what the service supplies at send time (the
customer record, the unsubscribe link, Jinja's globals). A path only used under `is defined`, `is
undefined`, `is none` or `| default(...)` is optional: the template copes without it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jinja2 import nodes
from jinja2.exceptions import TemplateSyntaxError

from renderers.environment import TEXT_ENV

VariablePath = tuple[str, ...]
ITEMS = "[]"
"""The step of a path that stands for every item of a list."""

SERVICE_SUPPLIED = frozenset(
    {
        "customer",
        "unsubscribe_url",
        "preferences_url",
        "view_in_browser_url",
        "survey",
        "loop",
        "caller",
        "self",
        "varargs",
        "kwargs",
    }
)
"""Names the data never provides: `ccm.personalisation` adds `customer`, the channels the unsubscribe,
preference-centre and view-in-browser links and the survey (`ccm.engagement.feedback`); Jinja binds the
rest inside loops and macros."""
_GUARD_TESTS = frozenset({"defined", "undefined", "none"})
_GUARD_FILTERS = frozenset({"default", "d"})

Scope = dict[str, VariablePath | None]
"""What a name bound in the template stands for: a data path (a loop over one), or None (local)."""


CUSTOMER = "customer"


@dataclass
class Usage:
    """What the sources read: data paths (required unless guarded), the customer paths read unguarded
    (`("customer", "first_name")`), and whether any lookup escapes static analysis (`a[key]`, an attribute
    of a local or of an expression): then no schema can promise the render finds what it reads."""

    required: set[VariablePath] = field(default_factory=set)
    optional: set[VariablePath] = field(default_factory=set)
    customer: set[VariablePath] = field(default_factory=set)
    opaque: set[str] = field(default_factory=set)
    """A description of each lookup the walker could not follow, for authors (`a[…]`, `(…).name`)."""


def variable_usage(sources: list[str]) -> Usage:
    """Everything `sources` read, by path; a source that does not parse adds nothing."""
    walker = _Walker()
    for source in sources:
        try:
            tree = TEXT_ENV.parse(source)
        except TemplateSyntaxError:
            continue  # refused when the version was saved; nothing to learn from it
        walker.template(tree)
    usage = walker.usage
    usage.required -= usage.optional
    return usage


def used_variables(sources: list[str]) -> tuple[set[VariablePath], set[VariablePath]]:
    """(required, optional) data paths over all `sources`."""
    usage = variable_usage(sources)
    return usage.required, usage.optional


class _Walker:
    def __init__(self) -> None:
        self.usage = Usage()

    @property
    def required(self) -> set[VariablePath]:
        return self.usage.required

    @property
    def optional(self) -> set[VariablePath]:
        return self.usage.optional

    def template(self, tree: nodes.Template) -> None:
        defined: Scope = dict.fromkeys(TEXT_ENV.globals)
        defined.update(dict.fromkeys(n.name for n in tree.find_all(nodes.Macro)))
        self.visit(tree, defined)

    def record(self, path: VariablePath | None, guarded: bool) -> None:
        if path and path[0] == CUSTOMER and not guarded:
            self.usage.customer.add(path)
        if path and path[0] not in SERVICE_SUPPLIED:
            (self.optional if guarded else self.required).add(path)

    def untracked(self, node: nodes.Node, path: VariablePath | None, dynamic: list[nodes.Node]) -> None:
        """Note a lookup into data (or into a value of unknown origin) the paths cannot describe."""
        if path is not None and path[0] in SERVICE_SUPPLIED:
            return
        if path is None:
            self.usage.opaque.add(f"line {node.lineno}: a lookup into a local value or an expression")
        elif dynamic or _numbered(node):
            self.usage.opaque.add(f"line {node.lineno}: a computed or numbered index into {dotted(path)}")

    def visit(self, node: nodes.Node, scope: Scope, guarded: bool = False) -> None:
        handler = getattr(self, f"visit_{type(node).__name__}", None)
        if handler is not None:
            handler(node, scope, guarded)
            return
        for child in node.iter_child_nodes():
            self.visit(child, scope, guarded)

    def path_of(self, node: nodes.Node, scope: Scope) -> tuple[VariablePath | None, list[nodes.Node]]:
        """The data path an attribute/item chain reads (None: not data), and the index expressions in it."""
        steps: list[str] = []
        dynamic: list[nodes.Node] = []
        while isinstance(node, nodes.Getattr | nodes.Getitem):
            if isinstance(node, nodes.Getattr):
                steps.append(node.attr)
            elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                steps.append(node.arg.value)
            elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, int):
                steps.append(ITEMS)
            else:
                dynamic.append(node.arg)
                steps.clear()  # `a[key].b`: only `a` is known to be used
            node = node.node
        if not isinstance(node, nodes.Name):
            dynamic.append(node)
            return None, dynamic
        if node.name in scope:
            base = scope[node.name]
            return (None if base is None else (*base, *reversed(steps))), dynamic
        return (node.name, *reversed(steps)), dynamic

    def visit_Name(self, node: nodes.Name, scope: Scope, guarded: bool) -> None:
        if node.ctx == "load":
            self.record(self.path_of(node, scope)[0], guarded)

    def visit_Getattr(self, node: nodes.Getattr, scope: Scope, guarded: bool) -> None:
        path, dynamic = self.path_of(node, scope)
        self.record(path, guarded)
        self.untracked(node, path, dynamic)
        for child in dynamic:
            self.visit(child, scope)

    visit_Getitem = visit_Getattr

    def visit_Call(self, node: nodes.Call, scope: Scope, guarded: bool) -> None:
        """`a.items()`: the method is not data, its object is."""
        target = node.node.node if isinstance(node.node, nodes.Getattr) else node.node
        self.visit(target, scope, guarded)
        for child in [*node.args, *node.kwargs, node.dyn_args, node.dyn_kwargs]:
            if child is not None:
                self.visit(child, scope)

    def visit_Test(self, node: nodes.Test, scope: Scope, guarded: bool) -> None:
        self.visit(node.node, scope, guarded or node.name in _GUARD_TESTS)
        for child in [*node.args, *node.kwargs]:
            self.visit(child, scope)

    def visit_Filter(self, node: nodes.Filter, scope: Scope, guarded: bool) -> None:
        if node.node is not None:
            self.visit(node.node, scope, guarded or node.name in _GUARD_FILTERS)
        for child in [*node.args, *node.kwargs]:
            self.visit(child, scope)

    def visit_For(self, node: nodes.For, scope: Scope, guarded: bool) -> None:
        self.visit(node.iter, scope, guarded)
        source = (
            self.path_of(node.iter, scope)[0] if isinstance(node.iter, nodes.Name | nodes.Getattr) else None
        )
        inner = {**scope, **_bound(node.target)}
        if isinstance(node.target, nodes.Name) and source is not None:
            inner[node.target.name] = (*source, ITEMS)
        for child in [*node.body, *([node.test] if node.test else [])]:
            self.visit(child, inner, guarded)
        for child in node.else_:
            self.visit(child, scope, guarded)

    def visit_Assign(self, node: nodes.Assign, scope: Scope, guarded: bool) -> None:
        self.visit(node.node, scope, guarded)
        scope.update(_bound(node.target))

    def visit_AssignBlock(self, node: nodes.AssignBlock, scope: Scope, guarded: bool) -> None:
        for child in node.body:
            self.visit(child, scope, guarded)
        scope.update(_bound(node.target))

    def visit_Macro(self, node: nodes.Macro, scope: Scope, guarded: bool) -> None:
        for default in node.defaults:
            self.visit(default, scope, guarded)
        inner = {**scope, **{arg.name: None for arg in node.args}}
        for child in node.body:
            self.visit(child, inner, guarded)

    def visit_CallBlock(self, node: nodes.CallBlock, scope: Scope, guarded: bool) -> None:
        self.visit(node.call, scope, guarded)
        inner = {**scope, **{arg.name: None for arg in node.args}}
        for child in node.body:
            self.visit(child, inner, guarded)

    def visit_With(self, node: nodes.With, scope: Scope, guarded: bool) -> None:
        for value in node.values:
            self.visit(value, scope, guarded)
        inner = dict(scope)
        for target in node.targets:
            inner.update(_bound(target))
        for child in node.body:
            self.visit(child, inner, guarded)


def dotted(path: VariablePath) -> str:
    """`invoice.lines[].amount`: a path as authors write it."""
    return ".".join(path).replace(f".{ITEMS}", ITEMS)


def _numbered(node: nodes.Node) -> bool:
    """`a.lines[0]`: an item no schema can promise (an array may be empty)."""
    while isinstance(node, nodes.Getattr | nodes.Getitem):
        numbered = isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const)
        if numbered and isinstance(node.arg.value, int):  # type: ignore[union-attr]
            return True
        node = node.node
    return False


def _bound(target: Any) -> Scope:
    """The names an assignment target binds, all local."""
    if isinstance(target, nodes.Name):
        return {target.name: None}
    return {name.name: None for name in target.find_all(nodes.Name)} if isinstance(target, nodes.Node) else {}
