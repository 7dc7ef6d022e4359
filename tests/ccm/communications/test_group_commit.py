"""Group commit of the worker's writes: urgent items are written before their thread goes on, batched only
when threads arrive together; lazy ones are written within the interval; one bad item fails alone."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from ccm.communications.group_commit import GroupCommit, Written


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'commits.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE items (value INTEGER PRIMARY KEY, thread TEXT)"))
    yield engine
    engine.dispose()


class Recorder:
    """Writes items as rows (a duplicate value violates the key) and remembers each batch's size."""

    def __init__(self) -> None:
        self.batches: list[tuple[int, int]] = []
        self.gate = threading.Event()
        self.gate.set()

    def write(self, session: Session, urgent: Sequence[int], lazy: Sequence[int]) -> Written:
        self.gate.wait(10)
        for value in [*urgent, *lazy]:
            session.connection().execute(
                text("INSERT INTO items VALUES (:v, :t)"), {"v": value, "t": threading.current_thread().name}
            )
        self.batches.append((len(urgent), len(lazy)))
        return Written([f"wrote {value}" for value in urgent])


def rows(engine: Engine) -> dict[int, str]:
    with engine.connect() as connection:
        return {row[0]: row[1] for row in connection.execute(text("SELECT value, thread FROM items"))}


def test_an_uncontended_urgent_item_is_committed_by_its_own_thread(engine: Engine) -> None:
    recorder = Recorder()
    commits: GroupCommit[int, int] = GroupCommit(engine, recorder.write, interval=0.05, max_lazy=100)
    commits.start()
    try:
        assert commits.urgent(1) == "wrote 1"
        assert rows(engine) == {1: threading.current_thread().name}  # committed on return, no thread hop
    finally:
        commits.close()


def test_urgent_items_arriving_during_a_commit_go_together_in_the_next(engine: Engine) -> None:
    recorder = Recorder()
    commits: GroupCommit[int, int] = GroupCommit(engine, recorder.write, interval=0.05, max_lazy=100)
    commits.start()
    recorder.gate.clear()  # the first commit stalls (a slow disk) while eight more threads queue
    results: dict[int, str] = {}
    threads = [threading.Thread(target=lambda v=v: results.update({v: commits.urgent(v)})) for v in range(9)]
    try:
        threads[0].start()
        while not commits._leader.locked():  # the first thread is writing
            threading.Event().wait(0.005)
        for thread in threads[1:]:
            thread.start()
        while len(commits._urgent) < 8:
            threading.Event().wait(0.005)
        recorder.gate.set()
        for thread in threads:
            thread.join(10)
    finally:
        commits.close()
    assert results == {v: f"wrote {v}" for v in range(9)}
    assert recorder.batches == [(1, 0), (8, 0)]
    assert set(rows(engine)) == set(range(9))


def test_a_lazy_item_is_committed_within_the_interval_by_the_committer(engine: Engine) -> None:
    recorder = Recorder()
    commits: GroupCommit[int, int] = GroupCommit(engine, recorder.write, interval=0.05, max_lazy=100)
    commits.start()
    try:
        commits.lazy(7)
        assert rows(engine) == {}  # returned at once, not yet written
        for _ in range(200):
            if rows(engine):
                break
            threading.Event().wait(0.01)
        assert rows(engine) == {7: "ccm-commit"}
    finally:
        commits.close()


def test_close_writes_what_is_queued(engine: Engine) -> None:
    recorder = Recorder()
    commits: GroupCommit[int, int] = GroupCommit(engine, recorder.write, interval=60, max_lazy=100)
    commits.start()
    commits.lazy(1)
    commits.lazy(2)
    commits.close()
    assert set(rows(engine)) == {1, 2}


def test_one_bad_item_fails_alone(engine: Engine) -> None:
    recorder = Recorder()
    commits: GroupCommit[int, int] = GroupCommit(engine, recorder.write, interval=0.05, max_lazy=100)
    commits.start()
    try:
        commits.urgent(1)
        recorder.gate.clear()
        errors: list[BaseException] = []
        results: list[str] = []

        def send(value: int) -> None:
            try:
                results.append(commits.urgent(value))
            except Exception as error:
                errors.append(error)

        blocker = threading.Thread(target=send, args=(2,))
        blocker.start()
        while not commits._leader.locked():
            threading.Event().wait(0.005)
        others = [threading.Thread(target=send, args=(v,)) for v in (1, 3)]  # 1 is taken already
        for thread in others:
            thread.start()
        while len(commits._urgent) < 2:
            threading.Event().wait(0.005)
        recorder.gate.set()
        for thread in [blocker, *others]:
            thread.join(10)
    finally:
        commits.close()
    assert sorted(results) == ["wrote 2", "wrote 3"]
    assert len(errors) == 1 and "UNIQUE" in str(errors[0])
    assert set(rows(engine)) == {1, 2, 3}
