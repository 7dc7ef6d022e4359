"""`ccm batch run`: a statement run from a JSONL/CSV file or a saved segment, with a progress bar and a
summary; `ccm batch status RUN_ID`: where a run stands and its failures."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from ccm.batches.inputs import InputError, source_of
from ccm.batches.models import BatchMode, BatchSource, BatchStatus
from ccm.batches.pool import WorkerFactory
from ccm.batches.progress import Progress, failures_of, progress_of
from ccm.batches.runner import Outcome, PoolDied, run_batch
from ccm.batches.runs import RunRequest, get_run, open_run
from ccm.database import make_engine, read_only, session_scope
from ccm.errors import ApiError
from ccm.settings import Settings

SHOWN_FAILURES = 20


def add_commands(commands: Any, worker_factory: WorkerFactory) -> None:
    """Register `ccm batch` on the top-level subparsers; `worker_factory` builds each process's worker."""
    batch = commands.add_parser("batch", help="statement runs: render and send (or archive) a whole input")
    sub = batch.add_subparsers(dest="batch_command", required=True)
    run = sub.add_parser(
        "run",
        help="render and send (or, with --archive-only, archive) one document per input line or segment "
        "customer; starting it again resumes it (exit 0: no failures, 1: some failures, 2: usage error)",
    )
    run.add_argument("--template", required=True)
    source = run.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", type=Path, help="a .jsonl ({customer_id, data} per line) or .csv file")
    source.add_argument("--segment", help="a saved segment's key: one document per customer in it")
    run.add_argument("--data", default="{}", help="JSON data shared by every document of a --segment run")
    run.add_argument("--channels", help="comma-separated (default: the template's; a print run: pdf)")
    run.add_argument("--archive-only", action="store_true", help="render and archive for print; send nothing")
    run.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="default: one per core")
    run.add_argument("--run-id", help="default: derived from the input's content, template version and mode")
    run.set_defaults(handler=lambda settings, args: _run(settings, args, worker_factory))
    status = sub.add_parser("status", help="a run's counters and its failures")
    status.add_argument("run_id")
    status.add_argument("--failures", type=int, default=SHOWN_FAILURES, help="how many failures to list")
    status.set_defaults(handler=_status)


def _request(args: argparse.Namespace) -> RunRequest:
    """The run asked for, or `InputError` naming what is wrong with the arguments."""
    mode = BatchMode.ARCHIVE_ONLY if args.archive_only else BatchMode.SEND
    channels = [c.strip() for c in args.channels.split(",") if c.strip()] if args.channels else None
    try:
        data = json.loads(args.data)
    except ValueError as error:
        raise InputError(f"--data is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise InputError("--data must be a JSON object")
    common: dict[str, Any] = {
        "template": args.template,
        "mode": mode,
        "channels": channels,
        "run_id": args.run_id,
    }
    if args.segment:
        return RunRequest(
            source=BatchSource.SEGMENT,
            input_name=f"segment:{args.segment}",
            segment=args.segment,
            data=data,
            **common,
        )
    path: Path = args.input
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if data:
        raise InputError("--data goes with --segment; an input file carries each document's data")
    return RunRequest(source=source_of(path.name), input_name=path.name, input_path=path.resolve(), **common)


def _run(settings: Settings, args: argparse.Namespace, factory: WorkerFactory) -> int:
    worker, close = factory(settings)
    try:
        try:
            request = _request(args)
            with session_scope(worker.runtime.engine) as session:
                run, resumed = open_run(session, request)
                run_pk, run_id, status = run.id, run.run_id, run.status
        except InputError as error:
            print(f"ccm: {error}", file=sys.stderr)
            return 2
        except ApiError as error:
            print(f"ccm: {error.message}", file=sys.stderr)
            return 2
        assert run_pk is not None
        if status == BatchStatus.FAILED:
            print(
                f"ccm: run {run_id} failed earlier and cannot go on; start another with --run-id",
                file=sys.stderr,
            )
            return 2
        print(f"{'resuming' if resumed else 'starting'} run {run_id}", file=sys.stderr)
        bar = ProgressBar(sys.stderr)
        try:
            outcome = run_batch(worker, factory, run_pk, processes=args.processes, show=bar)
        except PoolDied as error:
            bar.done()
            print(f"ccm: {error}; run again to resume", file=sys.stderr)
            return 1
        bar.done()
        with session_scope(read_only(worker.runtime.engine)) as session:
            failures = failures_of(session, get_run(session, run_id), limit=SHOWN_FAILURES)
        print_summary(outcome, failures, sys.stdout)
        return 1 if outcome.progress.failed else 0
    finally:
        close()


def _status(settings: Settings, args: argparse.Namespace) -> int:
    engine = make_engine(settings.database_url)
    try:
        with session_scope(read_only(engine)) as session:
            run = get_run(session, args.run_id)
            progress = progress_of(session, run)
            failures = failures_of(session, run, limit=args.failures)
    except ApiError as error:
        print(f"ccm: {error.message}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(counts_line(progress))
    print_failures(failures, progress.failed, sys.stdout)
    return 0


def counts_line(progress: Progress) -> str:
    total = "?" if progress.total is None else f"{progress.total:,}"
    return (
        f"run {progress.run_id}: {progress.status}  documents: {progress.considered:,}/{total}"
        f" (refused {progress.refused:,})  messages: {progress.queued:,}  done: {progress.done:,}"
        f"  failed: {progress.failed_messages:,}  pending: {progress.pending:,}  pages: {progress.pages:,}"
    )


def print_summary(outcome: Outcome, failures: list[dict[str, Any]], out: TextIO) -> None:
    """The run's counters, its failures (the first few) and the rate of this invocation."""
    progress = outcome.progress
    print(counts_line(progress), file=out)
    print(f"time: {outcome.seconds:.1f} s  {outcome.rate:,.2f} docs/s", file=out)
    if progress.pending:
        print(f"{progress.pending:,} messages wait for a retry; `ccm worker` sends them", file=out)
    print_failures(failures, progress.failed, out)


def print_failures(failures: list[dict[str, Any]], count: int, out: TextIO) -> None:
    if not failures:
        return
    shown = f" (first {len(failures)})" if count > len(failures) else ""
    print(f"failures: {count:,}{shown}", file=out)
    for failure in failures:
        customer = failure["customer_id"] or "-"
        print(f"  line {failure['line']}\t{customer}\t{failure['code']}\t{failure['reason']}", file=out)


class ProgressBar:
    """Documents finished of the total and docs/s on stderr: redrawn in place on a terminal, else a plain
    line every few seconds (as `ccm customers import` shows its rows)."""

    WIDTH = 30

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.every = 0.2 if self.tty else 5.0
        self.started = self.shown = time.monotonic()
        self.first: int | None = None
        self.latest: Progress | None = None
        self.drawn: Progress | None = None

    def __call__(self, progress: Progress) -> None:
        now = time.monotonic()
        self.latest = progress
        if self.first is None:
            self.first = progress.finished
        if now - self.shown < self.every:
            return
        self._draw(progress, now)

    def _draw(self, progress: Progress, now: float) -> None:
        self.shown, self.drawn = now, progress
        total = progress.total or 0
        done = min(progress.finished, total) if total else progress.finished
        filled = int(self.WIDTH * done / total) if total else 0
        rate = (progress.finished - (self.first or 0)) / max(now - self.started, 1e-6)
        text = (
            f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {done:,}/{total:,}  {rate:,.1f} docs/s"
            f"  failed {progress.failed:,}  pages {progress.pages:,}"
        )
        self.stream.write(("\r" + text + "\x1b[K") if self.tty else text + "\n")
        self.stream.flush()

    def done(self) -> None:
        """Draw the last figures, whenever the previous line was drawn."""
        if self.latest is not None and self.latest is not self.drawn:
            self._draw(self.latest, time.monotonic())
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
