"""Group commit: one thread writes what several worker threads produced, in one transaction per flush.

Two kinds of items. An *urgent* one (a hand-off record: the message is about to be handed to a provider)
is committed by its own thread as soon as no other commit of this process is running (leader/follower, as
databases group their log flushes): the thread that takes the commit lock writes every urgent item queued
by then in one transaction and wakes their threads. So batches form only under load, an uncontended
message pays no hop to another thread, and a fast message never waits for a slow render: nothing holds a
batch open for an item that is not there yet. A *lazy* one (an outcome, recorded after the hand-off)
returns at once; the committer thread commits it at most `interval` after it was queued, or as soon as
`max_lazy` are waiting, and an urgent commit takes along every lazy item queued by then (the outcomes of a
busy worker then cost no transaction of their own, and are on record sooner, never later).

Without a running thread (`start` not called) every item is written at once in the caller's thread, so
code that processes one message synchronously (`ccm batch run`'s pool) sees it finished on return.

A flush that fails is retried item by item, so one bad item (a unique key another worker took first)
fails alone; an urgent item's error goes back to its thread, a lazy item's is logged (its message stays
leased and its lease lapses, the case every outcome write had before batching).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from ccm.database import session_scope

logger = logging.getLogger(__name__)
U = TypeVar("U")
L = TypeVar("L")


@dataclass(frozen=True)
class Written:
    """What a write did: a result per urgent item, in order, and what to do once the transaction committed
    (e.g. remember the chain head it left), never before."""

    results: list[Any]
    on_commit: Callable[[], None] | None = None


Write = Callable[[Session, Sequence[U], Sequence[L]], Written]


class GroupCommit(Generic[U, L]):
    def __init__(
        self, engine: Engine, write: Write[U, L], *, interval: float, max_lazy: int, name: str = "ccm-commit"
    ) -> None:
        self.engine = engine
        self.write = write
        self.interval = interval
        self.max_lazy = max(1, max_lazy)
        self.name = name
        self._cond = threading.Condition()
        self._leader = threading.Lock()
        """Held by the one thread writing a batch: commits of this process never overlap."""
        self._urgent: list[tuple[U, Future[Any]]] = []
        self._lazy: list[L] = []
        self._lazy_since = 0.0
        self._closing = False
        self._thread: threading.Thread | None = None
        self.flushes = 0

    def start(self) -> None:
        with self._cond:
            self._closing = False
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Commit everything queued, then stop the thread (writing inline again)."""
        thread = self._thread
        if thread is None:
            return
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        thread.join()
        self._thread = None

    def urgent(self, item: U) -> Any:
        """Commit `item` (with whatever else is waiting) and return its result; raises its error."""
        if self._thread is None:
            result = self._commit_inline([item], [])[0]
            if isinstance(result, BaseException):
                raise result
            return result
        future: Future[Any] = Future()
        with self._cond:
            self._urgent.append((item, future))
        with self._leader:  # the leader before us may have written our item with its own
            if not future.done():
                self._flush()
        return future.result()

    def lazy(self, item: L) -> None:
        """Queue `item` for a commit at most `interval` from now."""
        if self._thread is None:
            self._commit_inline([], [item])
            return
        with self._cond:
            first = not self._lazy
            if first:
                self._lazy_since = time.monotonic()
            self._lazy.append(item)
            if first or len(self._lazy) >= self.max_lazy:
                self._cond.notify_all()  # the thread now has a deadline to wait for, or a full batch

    def _run(self) -> None:
        """The lazy items' committer: wakes when the oldest is due (or a batch is full, or on close)."""
        while True:
            with self._cond:
                while not self._lazy_due():
                    if self._closing:
                        return
                    timeout = self._lazy_since + self.interval - time.monotonic() if self._lazy else None
                    self._cond.wait(timeout)
            with self._leader:
                self._flush()

    def _flush(self) -> None:
        """Write every queued urgent item with every queued lazy one (only the due lazy ones when there is no
        urgent item: the committer waits for more to share its transaction); the caller holds `_leader`."""
        with self._cond:
            urgent, self._urgent = self._urgent, []
            lazy: list[L] = []
            if urgent or self._lazy_due():  # a transaction is paid for anyway: no outcome waits longer
                lazy, self._lazy = self._lazy, []
        if not urgent and not lazy:
            return
        try:
            results = self._commit_inline([item for item, _ in urgent], lazy)
        except BaseException as error:  # never leave a thread waiting on an item nobody will write
            for _, future in urgent:
                future.set_exception(error)
            raise
        for (_, future), result in zip(urgent, results, strict=True):
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)

    def _lazy_due(self) -> bool:
        if not self._lazy:
            return False
        waited = time.monotonic() - self._lazy_since
        return self._closing or len(self._lazy) >= self.max_lazy or waited >= self.interval

    def _commit_inline(self, urgent: Sequence[U], lazy: Sequence[L]) -> list[Any]:
        """The results of `urgent` (an exception in place of a result that failed)."""
        try:
            return self._commit(urgent, lazy)
        except Exception as error:
            if len(urgent) + len(lazy) == 1:
                if lazy:
                    logger.warning("recording an outcome failed: %s", error, exc_info=True)
                return [error] * len(urgent)
        results = [self._commit_inline([item], [])[0] for item in urgent]
        for item in lazy:
            self._commit_inline([], [item])
        return results

    def _commit(self, urgent: Sequence[U], lazy: Sequence[L]) -> list[Any]:
        with session_scope(self.engine) as session:
            written = self.write(session, urgent, lazy)
        self.flushes += 1
        if written.on_commit is not None:
            written.on_commit()
        return written.results
