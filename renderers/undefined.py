"""A strict Undefined that remembers the dotted path it stands for, so errors name `invoice.number`."""

from __future__ import annotations

from collections import deque
from typing import Any, NoReturn

from jinja2 import StrictUndefined
from jinja2.exceptions import SecurityError
from jinja2.utils import missing

from renderers.errors import UnsafeTemplateError


class UndefinedAccess(Exception):
    """Raised inside a render; the caller resolves `owner` in the context to build the full path."""

    def __init__(self, path: str, owner: Any) -> None:
        super().__init__(path)
        self.path = path
        self.owner = owner


class PathUndefined(StrictUndefined):
    """Attribute and item access chain into a longer path; any real use of the value raises."""

    __slots__ = ()

    @property
    def _path(self) -> str:
        return self._undefined_name or "?"

    def _child(self, name: object) -> PathUndefined:
        """Extend the path instead of failing, so the error names the whole expression."""
        if self._undefined_exception is SecurityError:
            self._fail_with_undefined_error()
        step = f"[{name}]" if isinstance(name, int) else f".{name}"
        return PathUndefined(obj=self._undefined_obj, name=f"{self._path}{step}")

    def __getattr__(self, name: str) -> Any:
        if name[:2] == "__":
            raise AttributeError(name)
        return self._child(name)

    def __getitem__(self, key: Any) -> Any:
        return self._child(key)

    def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> NoReturn:
        if self._undefined_exception is SecurityError:
            raise UnsafeTemplateError(self._undefined_hint or f"access to '{self._path}' is not allowed")
        owner = None if self._undefined_obj is missing else self._undefined_obj
        raise UndefinedAccess(self._path, owner)

    __iter__ = __str__ = __len__ = _fail_with_undefined_error
    __eq__ = __ne__ = __bool__ = __hash__ = __contains__ = _fail_with_undefined_error
    __lt__ = __le__ = __gt__ = __ge__ = __int__ = __float__ = _fail_with_undefined_error
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _fail_with_undefined_error
    __call__ = _fail_with_undefined_error


def locate(context: Any, target: Any, *, max_nodes: int = 20_000) -> str | None:
    """Find the dotted path of `target` (by identity) inside the render context; breadth-first, bounded."""
    queue = deque((str(key), value) for key, value in dict(context).items())
    seen = 0
    while queue and seen < max_nodes:
        path, value = queue.popleft()
        seen += 1
        if value is target:
            return path
        if isinstance(value, dict):
            queue.extend((f"{path}.{k}", v) for k, v in value.items())
        elif isinstance(value, list | tuple):
            queue.extend((f"{path}[{i}]", v) for i, v in enumerate(value))
    return None
