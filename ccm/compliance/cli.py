"""`ccm archive ...`: verify, purge, rerender, export, checkpoint, public-key."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from ccm.archiving.vault import ArchiveVault, open_vault
from ccm.database import make_engine
from ccm.settings import Settings

if TYPE_CHECKING:  # the commands import their modules when run, so `ccm --help` stays quick
    from ccm.compliance.rerender import RerenderResult


def add_commands(commands: Any) -> None:
    """Register `ccm archive` and its subcommands on the top-level subparsers."""
    archive = commands.add_parser(
        "archive", help="verify, purge, re-render and export the compliance archive"
    )
    sub = archive.add_subparsers(dest="archive_command", required=True)
    verify = sub.add_parser(
        "verify", help="walk the hash chain and the stored objects; non-zero exit on any issue"
    )
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    verify.set_defaults(handler=_verify)
    purge = sub.add_parser("purge", help="delete what is past retention and not on hold (tombstones kept)")
    purge.set_defaults(handler=_purge)
    rerender = sub.add_parser(
        "rerender", help="re-compose a message from its template version and data snapshot"
    )
    rerender.add_argument("message_id")
    rerender.add_argument(
        "--check", action="store_true", help="compare with the archived bytes; non-zero if different"
    )
    rerender.add_argument("--output", type=Path, default=None, help="write the re-rendered bytes here")
    rerender.set_defaults(handler=_rerender)
    export = sub.add_parser("export", help="write a self-verifying zip for a customer")
    export.add_argument("--customer", required=True, help="the customer's external id")
    export.add_argument("--output", type=Path, required=True)
    export.set_defaults(handler=_export)
    checkpoint = sub.add_parser(
        "checkpoint", help="sign the current heads of the archive chain and the audit log"
    )
    checkpoint.set_defaults(handler=_checkpoint)
    public_key = sub.add_parser(
        "public-key", help="print the checkpoint signing key (PEM) and its fingerprint"
    )
    public_key.set_defaults(handler=_public_key)


@dataclass(frozen=True)
class _Archive:
    """What the archive commands work on: the database and the vault (no providers, no worker)."""

    settings: Settings
    engine: Engine
    archive: ArchiveVault


@contextmanager
def _opened(settings: Settings) -> Iterator[_Archive]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    vault = open_vault(settings, engine)
    try:
        yield _Archive(settings, engine, vault)
    finally:
        vault.close()
        engine.dispose()


def _verify(settings: Settings, args: argparse.Namespace) -> int:
    from ccm.compliance.audit import verify_log
    from ccm.compliance.verify import verify_archive

    with _opened(settings) as runtime, Session(runtime.engine) as session:
        report = verify_archive(session, runtime.archive)
        audit_count, audit_problems = verify_log(session)
    if args.json:
        issues = [vars(i) for i in report.issues]
        print(json.dumps({"ok": report.ok and not audit_problems, "issues": issues}, indent=2))
    else:
        print(
            f"archive {report.store_url}: {report.records} chain records,"
            f" {report.objects_checked} objects read, {report.tombstones} tombstones,"
            f" last signed checkpoint at {report.checkpoint_seq}"
        )
        for issue in report.issues:
            where = f" (chain position {issue.seq})" if issue.seq is not None else ""
            print(f"  {issue.problem.upper()}: message {issue.message_id or '-'}{where}: {issue.detail}")
        print(f"audit log: {audit_count} records")
        for problem in audit_problems:
            print(f"  AUDIT: record {problem.seq}: {problem.problem}")
        print("OK" if report.ok and not audit_problems else "FAILED")
    return 0 if report.ok and not audit_problems else 1


def _purge(settings: Settings, _args: argparse.Namespace) -> int:
    from ccm.compliance.jobs import purge_archive

    with _opened(settings) as runtime:
        result = purge_archive(runtime)
    counts = (len(result.purged), len(result.refused), len(result.keys_destroyed))
    print("purged {}, refused {}, data keys destroyed {}".format(*counts))
    return 0


def _rerender(settings: Settings, args: argparse.Namespace) -> int:
    from ccm.archiving.service import find_entry
    from ccm.compliance.rerender import rerender

    with _opened(settings) as runtime, Session(runtime.engine) as session:
        entry = find_entry(session, args.message_id)
        if entry is None:
            print(f"no archived message {args.message_id}", file=sys.stderr)
            return 2
        produced, result = rerender(session, runtime.archive, entry)
    if args.output:
        args.output.write_bytes(produced)
    print(f"archived    sha256 {result.archived_sha256}\nre-rendered sha256 {result.rerendered_sha256}")
    _print_inputs(result)
    if result.matches:
        print("IDENTICAL: the archived bytes are reproduced exactly")
        return 0
    print(f"DIFFERENT: first difference at {result.first_difference}")
    return 1 if args.check else 0


def _print_inputs(result: RerenderResult) -> None:
    """What the re-render composed with, the archived DKIM signatures, and what changed since sending."""
    if result.inputs_recorded:
        print("composed with the recorded render inputs (base URL, senders, token key, PDF variant)")
    else:
        print("no render inputs recorded (archived before they were kept): composed with today's settings")
    for line in result.dkim:
        print(f"  {line}")
    if result.changed_inputs:
        print("recorded inputs that differ from today's environment:")
    for change in result.changed_inputs:
        print(f"  {change}")


def _export(settings: Settings, args: argparse.Namespace) -> int:
    from ccm.compliance import audit, search
    from ccm.compliance.export import MAX_ENTRIES, build_export
    from ccm.database import session_scope

    with _opened(settings) as runtime, session_scope(runtime.engine) as session:
        query = search.ArchiveQuery(customer_id=args.customer)
        hits, total = search.search(session, query, limit=MAX_ENTRIES)
        entries = [entry for entry, _ in hits]
        args.output.write_bytes(build_export(session, runtime.archive, entries, query.as_record()))
        audit.log_access(
            session, None, "export", {**query.as_record(), "via": "cli"}, [e.message_id for e in entries]
        )
    print(f"wrote {len(entries)} of {total} messages to {args.output}")
    return 0


def _checkpoint(settings: Settings, _args: argparse.Namespace) -> int:
    from ccm.compliance.jobs import sign_checkpoints

    with _opened(settings) as runtime:
        sign_checkpoints(runtime)
    print("checkpoints signed")
    return 0


def _public_key(settings: Settings, _args: argparse.Namespace) -> int:
    from ccm.archiving.signing import CheckpointSigner

    signer = CheckpointSigner(settings.archive_signing_key)
    print(signer.public_key_pem, end="")
    print(f"sha256 fingerprint of the raw key: {signer.fingerprint}")
    return 0
