"""The one `ccm` command: serve, worker, migrate, seed-demo, keys, templates."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from ccm.access.models import Role
from ccm.logs import configure_logging
from ccm.settings import Settings, get_settings

DEMO_KEY_FILE = "demo-admin.key"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = get_settings()
    except ValueError as error:
        print(f"ccm: configuration error: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_format, settings.log_level)
    result: int = args.handler(settings, args)
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ccm", description="Customer communication management service.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the API and web UI (and, by default, a worker)")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--no-worker", action="store_true", help="API only; run `ccm worker` separately")
    serve.set_defaults(handler=_serve)

    worker = commands.add_parser("worker", help="claim and send due messages until stopped")
    worker.add_argument("--concurrency", type=int, default=1)
    worker.add_argument(
        "--lane",
        action="append",
        choices=["transactional", "marketing"],
        help="only claim messages of this lane (repeatable; default: every lane, transactional first)",
    )
    worker.add_argument("--once", action="store_true", help="process what is due now, then exit")
    worker.set_defaults(handler=_worker)

    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(handler=_migrate)

    seed = commands.add_parser(
        "seed-demo", help="load starter templates and demo customers; print an admin key"
    )
    seed.set_defaults(handler=_seed_demo)

    keys = commands.add_parser("keys", help="manage API keys")
    key_commands = keys.add_subparsers(dest="keys_command", required=True)
    create = key_commands.add_parser("create", help="create a key; it is printed once, on the last line")
    create.add_argument("--role", required=True, choices=[role.value for role in Role])
    create.add_argument("--name", default=None)
    create.set_defaults(handler=_create_key)
    listing = key_commands.add_parser("list", help="one line per key: id, role, name, prefix, dates")
    listing.set_defaults(handler=_list_keys)
    revoke = key_commands.add_parser("revoke", help="refuse a key from now on and end its web sessions")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(handler=_revoke_key)

    templates = commands.add_parser("load-templates", help="load starter templates the registry lacks")
    templates.set_defaults(handler=_load_templates)

    from ccm.compliance.cli import add_commands as add_archive_commands

    add_archive_commands(commands)
    return parser


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from ccm.app import create_app

    app = create_app(settings, background=settings.run_worker and not args.no_worker)
    host = args.host or settings.host
    port = args.port or settings.port
    print(
        f"ccm serving on http://{host}:{port}  (web UI: {settings.base_url}/ui, API docs: /docs)", flush=True
    )
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)
    return 0


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    from ccm.communications.worker import Worker
    from ccm.runtime import Runtime

    runtime = Runtime.build(settings)
    try:
        worker = Worker(runtime, lanes=args.lane)
        if args.once:
            processed = worker.run_until_idle()
            print(f"processed {processed} messages")
            return 0
        stop_event = threading.Event()

        def stop(_signum: int, _frame: FrameType | None) -> None:
            stop_event.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        logging.getLogger("ccm.worker").info("worker %s started (lanes: %s)", worker.name, args.lane or "all")
        worker.run(stop_event, concurrency=max(1, args.concurrency))
        return 0
    finally:
        runtime.close()


def _migrate(settings: Settings, _args: argparse.Namespace) -> int:
    from ccm.migrate import upgrade

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    print("database is at the latest migration")
    return 0


def _seed_demo(settings: Settings, _args: argparse.Namespace) -> int:
    from ccm.access.service import authenticate, create_api_key
    from ccm.customers.demo import seed_demo_customers
    from ccm.database import make_engine, session_scope
    from ccm.registry.starter import load_starter_templates

    engine = make_engine(settings.database_url)
    key_file = settings.data_dir / DEMO_KEY_FILE
    with session_scope(engine) as session:
        added = load_starter_templates(session, settings.templates_dir)
        created = seed_demo_customers(session)
        raw_key = key_file.read_text().strip() if key_file.exists() else ""
        if not raw_key or authenticate(session, raw_key) is None:
            _, raw_key = create_api_key(session, role=Role.ADMIN, name="demo admin")
            key_file.write_text(raw_key + "\n")
            key_file.chmod(0o600)
    engine.dispose()
    print(f"templates added: {', '.join(added) or 'none (already there)'}; demo customers added: {created}")
    print(f"web UI: {settings.base_url}/ui   API docs: {settings.base_url}/docs")
    print(f"admin API key (also in {key_file}):")
    print(raw_key)
    return 0


def _create_key(settings: Settings, args: argparse.Namespace) -> int:
    from ccm.access.service import create_api_key
    from ccm.database import make_engine, session_scope

    engine = make_engine(settings.database_url)
    with session_scope(engine) as session:
        api_key, raw_key = create_api_key(session, role=Role(args.role), name=args.name or f"{args.role} key")
        print(f"created {api_key.role} key '{api_key.name}' (shown once, only its hash is stored):")
    engine.dispose()
    print(raw_key)
    return 0


def _list_keys(settings: Settings, _args: argparse.Namespace) -> int:
    """Tab-separated, so a name with spaces stays one column; of the key itself, only its first characters."""
    from ccm.access.service import list_api_keys, shown_prefix
    from ccm.database import make_engine, session_scope

    engine = make_engine(settings.database_url)
    with session_scope(engine) as session:
        for key in list_api_keys(session):
            revoked = key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else "-"
            created = key.created_at.isoformat(timespec="seconds")
            print(f"{key.id}\t{key.role}\t{key.name}\t{shown_prefix(key)}\t{created}\t{revoked}")
    engine.dispose()
    return 0


def _revoke_key(settings: Settings, args: argparse.Namespace) -> int:
    """Revoking a revoked key succeeds and reports the first revocation, so scripts can simply retry."""
    from ccm.access.service import revoke_api_key
    from ccm.database import make_engine, session_scope
    from ccm.errors import NotFound

    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            api_key = revoke_api_key(session, args.id)
    except NotFound as error:
        print(f"ccm: {error.message}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    revoked = api_key.revoked_at.isoformat(timespec="seconds") if api_key.revoked_at else "?"
    print(f"{api_key.role} key {api_key.id} '{api_key.name}' revoked at {revoked}")
    return 0


def _load_templates(settings: Settings, _args: argparse.Namespace) -> int:
    from ccm.database import make_engine, session_scope
    from ccm.registry.starter import load_starter_templates

    engine = make_engine(settings.database_url)
    with session_scope(engine) as session:
        added = load_starter_templates(session, settings.templates_dir)
    engine.dispose()
    print(f"templates added: {', '.join(added) or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
