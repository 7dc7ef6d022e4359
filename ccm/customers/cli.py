"""`ccm customers import FILE`: stream a CSV or JSONL file into customer upserts, with a progress bar."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from ccm.settings import Settings


def add_commands(commands: Any) -> None:
    """Register `ccm customers` and its subcommands on the top-level subparsers."""
    customers = commands.add_parser("customers", help="bulk work on customer records")
    sub = customers.add_subparsers(dest="customers_command", required=True)
    run = sub.add_parser(
        "import",
        help="upsert customers from a CSV or JSONL file; rejected rows go to FILE.report.csv "
        "(exit 0: all imported, 1: some rejected, 2: usage error)",
    )
    run.add_argument("file", type=Path)
    run.add_argument("--format", choices=["csv", "jsonl"], help="default: by the file's extension")
    run.add_argument("--all-or-nothing", action="store_true", help="import nothing if any row is rejected")
    run.set_defaults(handler=_import)


class ProgressLine:
    """Rows done and rows/s on stderr: redrawn in place on a terminal, else a plain line every few seconds."""

    def __init__(self, stream: TextIO, *, every: float | None = None) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.every = every if every is not None else (0.2 if self.tty else 5.0)
        self.started = self.shown = time.monotonic()

    def __call__(self, rows: int, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.shown < self.every:
            return
        self.shown = now
        rate = rows / max(now - self.started, 1e-6)
        text = f"{rows:,} rows  {rate:,.0f} rows/s"
        end = "\n" if final or not self.tty else ""
        self.stream.write(("\r" + text + "\x1b[K" if self.tty else text) + end)
        self.stream.flush()


def _import(settings: Settings, args: argparse.Namespace) -> int:
    from ccm.customers.import_readers import UsageError
    from ccm.customers.importing import ImportOptions, import_file
    from ccm.database import make_engine

    progress = ProgressLine(sys.stderr)
    options = ImportOptions(fmt=args.format, all_or_nothing=args.all_or_nothing, progress=progress)
    engine = make_engine(settings.database_url)
    try:
        result = import_file(engine, args.file, options)
    except UsageError as error:
        print(f"ccm: {error}", file=sys.stderr)
        return 2
    except UnicodeDecodeError as error:
        print(f"ccm: {args.file} is not UTF-8 text ({error.reason})", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    progress(result.rows, final=True)
    counts = f"rows: {result.rows}  imported: {result.imported} (new: {result.created})"
    report = f"  report: {result.report}" if result.rejected else ""
    print(f"{counts}  rejected: {result.rejected}{report}")
    return result.exit_code
