"""Renders of untrusted templates in child processes, each bounded in CPU time, memory and wall clock.

A template author can write a loop that burns the CPU, a padding that asks for gigabytes, or a document of
thousands of pages. None of that may stall the service or grow its memory: every render runs in a child
process whose address space is capped by the OS (`RLIMIT_AS`), whose CPU time is capped per render
(`RLIMIT_CPU`, moved forward before each task), and which the parent kills after a wall-clock timeout. A
child that went over a limit is replaced, never reused.

Capacity is split into lanes (one-time codes, marketing, interactive previews...), each with its own
processes, so a slow render in one lane never waits behind another's. The functions run must be importable
module-level callables (they are sent by reference); their arguments and results must pickle.
"""

from __future__ import annotations

import math
import multiprocessing
import resource
import signal
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from renderers.errors import RenderError, RenderLimitExceeded
from renderers.limits import OutputLimits, bounded_output

T = TypeVar("T")
_MB = 1024 * 1024


@dataclass(frozen=True)
class RenderLimits:
    cpu_seconds: float = 10.0
    timeout_seconds: float = 60.0
    memory_mb: int = 512
    output: OutputLimits = field(default_factory=OutputLimits)


class _CpuLimit(BaseException):
    """Raised in the child by SIGXCPU; a BaseException so template code cannot catch it."""


def _on_sigxcpu(_signum: int, _frame: Any) -> None:
    raise _CpuLimit


def _address_space() -> int:
    """This process's current virtual size: the memory limit is counted on top of what is mapped at start."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


def _child(connection: Connection, limits: RenderLimits) -> None:
    """The child's loop: one task at a time, limits re-armed per task, exit after any limit was hit."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when children stop
    signal.signal(signal.SIGXCPU, _on_sigxcpu)
    cap = _address_space() + limits.memory_mb * _MB
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    while True:
        try:
            task = connection.recv()
        except EOFError:
            return
        except Exception as error:  # the task could not be unpickled (a function that does not import here)
            connection.send(("error", RenderError(f"the render task could not be loaded: {error}")))
            continue
        if task is None:
            return
        reply = _run_task(task, limits)
        try:
            connection.send(reply)
        except Exception as error:  # a result or error that does not pickle
            connection.send(("error", RenderError(f"the render's result could not be returned: {error}")))
        if reply[0] == "limit":
            return


def _run_task(task: tuple[Callable[..., Any], tuple[Any, ...]], limits: RenderLimits) -> tuple[str, Any]:
    function, args = task
    used = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = math.ceil(used + limits.cpu_seconds)
    resource.setrlimit(
        resource.RLIMIT_CPU, (soft, hard if hard == resource.RLIM_INFINITY else max(hard, soft))
    )
    try:
        with bounded_output(limits.output):
            return "ok", function(*args)
    except _CpuLimit:
        return "limit", "cpu"
    except MemoryError:
        return "limit", "memory"
    except RenderError as error:
        if _caused_by(error, MemoryError):  # a renderer reported the allocation failure as its own error
            return "limit", "memory"
        return "error", error
    except RecursionError:
        return "error", RenderError("the template nests too deeply (recursion limit)")
    except Exception as error:
        return "error", RenderError(f"{type(error).__name__}: {error}")
    finally:
        resource.setrlimit(resource.RLIMIT_CPU, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def _caused_by(error: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = error
    for _ in range(10):
        seen = seen.__cause__ or seen.__context__ if seen is not None else None
        if seen is None:
            return False
        if isinstance(seen, kind):
            return True
    return False


class _Process:
    """One child and the parent's end of its pipe."""

    def __init__(self, context: Any, limits: RenderLimits) -> None:
        parent, child = context.Pipe()
        self.connection: Connection = parent
        self.process = context.Process(target=_child, args=(child, limits), daemon=True)
        self.process.start()
        child.close()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.connection.close()


class _Lane:
    """Idle processes of one lane; a render waits only for its own lane's capacity."""

    def __init__(self, size: int) -> None:
        self.idle: list[_Process] = []
        self.slots = threading.Semaphore(size)
        self.lock = threading.Lock()


class RenderPool:
    """Child processes by lane, started lazily, running one bounded render each at a time."""

    def __init__(
        self,
        limits: RenderLimits,
        *,
        processes_per_lane: int = 1,
        preload: Iterable[str] = (),
        start_method: str = "forkserver",
    ) -> None:
        self.limits = limits
        self.processes_per_lane = max(1, processes_per_lane)
        self._lanes: dict[str, _Lane] = {}
        self._lanes_lock = threading.Lock()
        self._context = multiprocessing.get_context(start_method)
        if start_method == "forkserver":
            self._context.set_forkserver_preload(list(preload))
        self._closed = False

    def _lane(self, name: str) -> _Lane:
        """A lane is named by its caller and gets its own processes the first time it is used."""
        with self._lanes_lock:
            lane = self._lanes.get(name)
            if lane is None:
                lane = self._lanes[name] = _Lane(self.processes_per_lane)
            return lane

    def run(self, lane: str, function: Callable[..., T], *args: Any) -> T:
        """`function(*args)` in a child of `lane`; RenderLimitExceeded when a limit stopped it."""
        pool_lane = self._lane(lane)
        with pool_lane.slots:
            process = self._checkout(pool_lane)
            healthy = False
            try:
                result = self._call(process, function, args)
                healthy = True
                return result
            except RenderLimitExceeded:
                raise
            except RenderError:
                healthy = True
                raise
            finally:
                self._checkin(pool_lane, process, healthy)

    def _checkout(self, lane: _Lane) -> _Process:
        with lane.lock:
            while lane.idle:
                process = lane.idle.pop()
                if process.process.is_alive():
                    return process
                process.kill()
        return _Process(self._context, self.limits)

    def _checkin(self, lane: _Lane, process: _Process, healthy: bool) -> None:
        if not healthy or self._closed or not process.process.is_alive():
            process.kill()
            return
        with lane.lock:
            lane.idle.append(process)

    def _call(self, process: _Process, function: Callable[..., T], args: tuple[Any, ...]) -> T:
        started = time.monotonic()
        try:
            process.connection.send((function, args))
        except (BrokenPipeError, OSError) as error:
            raise RenderLimitExceeded(
                "memory", f"the render process could not take the task: {error}"
            ) from None
        if not process.connection.poll(self.limits.timeout_seconds):
            raise RenderLimitExceeded(
                "timeout", f"the render took longer than {self.limits.timeout_seconds:g} s and was stopped"
            )
        try:
            kind, value = process.connection.recv()
        except (EOFError, OSError):
            raise self._death(process, started) from None
        if kind == "ok":
            return value  # type: ignore[no-any-return]
        if kind == "limit":
            raise RenderLimitExceeded(str(value), _LIMIT_MESSAGES[str(value)].format(limits=self.limits))
        raise value

    def _death(self, process: _Process, started: float) -> RenderLimitExceeded:
        """A child that died mid-render was killed by the OS: past its CPU hard limit or out of memory."""
        process.process.join(timeout=1)
        code = process.process.exitcode
        if (
            code is not None
            and -code in (signal.SIGXCPU, signal.SIGKILL)
            and (time.monotonic() - started >= self.limits.cpu_seconds)
        ):
            return RenderLimitExceeded("cpu", _LIMIT_MESSAGES["cpu"].format(limits=self.limits))
        return RenderLimitExceeded(
            "memory", f"the render process died (exit {code}); memory is the likely cause"
        )

    def warm(self, lanes: Iterable[str]) -> None:
        """Start one process in each of these lanes now, so their first render does not wait for one."""
        for lane in map(self._lane, lanes):
            with lane.lock:
                if lane.idle:
                    continue
            self._checkin(lane, _Process(self._context, self.limits), healthy=True)

    def close(self) -> None:
        """Stop every idle child (a busy one is stopped when its render returns)."""
        self._closed = True
        with self._lanes_lock:
            lanes = list(self._lanes.values())
        for lane in lanes:
            with lane.lock:
                idle, lane.idle = lane.idle, []
            for process in idle:
                with suppress(OSError):
                    process.connection.send(None)
                process.kill()


_LIMIT_MESSAGES = {
    "cpu": "the render used more than {limits.cpu_seconds:g} s of CPU time and was stopped",
    "memory": "the render needed more than {limits.memory_mb} MB of memory and was stopped",
}


def run_inline(function: Callable[..., T], *args: Any, output: OutputLimits | None = None) -> T:
    """The same call in this process, bounded only in output: for unit tests and tools, never for authors'
    templates in a running service."""
    try:
        with bounded_output(output or OutputLimits()):
            return function(*args)
    except RecursionError:
        raise RenderError("the template nests too deeply (recursion limit)") from None
    except MemoryError:
        raise RenderLimitExceeded("memory", "the render ran out of memory") from None
