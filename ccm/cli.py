"""The one `ccm` command: serve, worker, migrate, seed-demo, keys, users, load-templates, templates."""

from __future__ import annotations

import argparse
import getpass
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType
from typing import TYPE_CHECKING

from ccm.access.models import Role
from ccm.logs import configure_logging
from ccm.settings import Settings, get_settings

if TYPE_CHECKING:
    from ccm.communications.worker import Worker

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
    create.add_argument("--owner", metavar="EMAIL", help="the user the key acts for (four-eyes counts them)")
    create.set_defaults(handler=_create_key)
    listing = key_commands.add_parser("list", help="one line per key: id, role, name, prefix, dates, owner")
    listing.set_defaults(handler=_list_keys)
    revoke = key_commands.add_parser("revoke", help="refuse a key from now on and end its web sessions")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(handler=_revoke_key)

    users = commands.add_parser("users", help="manage the people who sign in to the web UI")
    user_commands = users.add_subparsers(dest="users_command", required=True)
    create_user = user_commands.add_parser(
        "create", help="create a user; the password is the first line of stdin, or asked for twice"
    )
    create_user.add_argument("--email", required=True)
    create_user.add_argument("--role", required=True, choices=[role.value for role in Role])
    create_user.set_defaults(handler=_create_user)
    list_users = user_commands.add_parser("list", help="one line per user: id, email, role, dates")
    list_users.set_defaults(handler=_list_users)
    disable = user_commands.add_parser("disable", help="refuse a user's sign-ins and end their web sessions")
    disable.add_argument("--email", required=True)
    disable.set_defaults(handler=_disable_user)

    templates = commands.add_parser("load-templates", help="load starter templates the registry lacks")
    templates.set_defaults(handler=_load_templates)

    from ccm.batches.cli import add_commands as add_batch_commands
    from ccm.compliance.cli import add_commands as add_archive_commands
    from ccm.customers.cli import add_commands as add_customer_commands
    from ccm.engagement.cli import add_commands as add_tracking_commands
    from ccm.registry.as_code.cli import add_commands as add_template_commands

    add_archive_commands(commands)
    add_batch_commands(commands, worker_factory=batch_worker)
    add_customer_commands(commands)
    add_template_commands(commands)
    add_tracking_commands(commands)
    return parser


def batch_worker(settings: Settings) -> tuple[Worker, Callable[[], None]]:
    """The worker of each `ccm batch run` process, and what closes its runtime (module-level: it crosses to
    the processes)."""
    from ccm.communications.worker import Worker
    from ccm.runtime import Runtime

    runtime = Runtime.build(settings)
    return Worker(runtime), runtime.close


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
    from ccm.journeys.engine import JourneyRunner
    from ccm.runtime import Runtime
    from ccm.webhooks.dispatch import Dispatcher

    runtime = Runtime.build(settings)
    try:
        worker = Worker(runtime, lanes=args.lane)
        dispatcher = Dispatcher(runtime.engine, settings)
        journeys = JourneyRunner(runtime.engine, settings)
        if args.once:
            steps = journeys.run_until_idle()
            processed = worker.run_until_idle()
            print(
                f"processed {processed} messages, {dispatcher.run_until_idle()} webhook deliveries,"
                f" {steps} journey runs"
            )
            return 0
        stop_event = threading.Event()

        def stop(_signum: int, _frame: FrameType | None) -> None:
            stop_event.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        logging.getLogger("ccm.worker").info("worker %s started (lanes: %s)", worker.name, args.lane or "all")
        webhooks = threading.Thread(target=dispatcher.run, args=(stop_event,), name="ccm-webhooks")
        webhooks.start()
        runs = threading.Thread(target=journeys.run, args=(stop_event,), name="ccm-journeys")
        runs.start()
        worker.run(stop_event, concurrency=max(1, args.concurrency))
        webhooks.join()
        runs.join()
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
    from ccm.journeys.clock import journey_now
    from ccm.journeys.demo import seed_demo_journeys
    from ccm.registry.starter import load_starter_templates

    engine = make_engine(settings.database_url)
    key_file = settings.data_dir / DEMO_KEY_FILE
    with session_scope(engine) as session:
        added = load_starter_templates(session, settings.templates_dir)
        created = seed_demo_customers(session)
        journeys = seed_demo_journeys(session, now=journey_now(settings))
        raw_key = key_file.read_text().strip() if key_file.exists() else ""
        if not raw_key or authenticate(session, raw_key) is None:
            _, raw_key = create_api_key(session, role=Role.ADMIN, name="demo admin")
            key_file.write_text(raw_key + "\n")
            key_file.chmod(0o600)
    engine.dispose()
    print(f"templates added: {', '.join(added) or 'none (already there)'}; demo customers added: {created}")
    print(f"journeys added: {', '.join(journeys) or 'none (already there)'}")
    print(f"web UI: {settings.base_url}/ui   API docs: {settings.base_url}/docs")
    print(f"admin API key (also in {key_file}):")
    print(raw_key)
    return 0


def _create_key(settings: Settings, args: argparse.Namespace) -> int:
    from ccm.access.service import create_api_key
    from ccm.access.users import find_user
    from ccm.database import make_engine, session_scope

    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            owner = find_user(session, args.owner) if args.owner is not None else None
            if args.owner is not None and owner is None:
                print(
                    f"ccm: no user with the email {args.owner}; create one with `ccm users create`",
                    file=sys.stderr,
                )
                return 1
            name = args.name or f"{args.role} key"
            api_key, raw_key = create_api_key(
                session, role=Role(args.role), name=name, owner_user_id=owner.id if owner else None
            )
            owned = f" for {owner.email}" if owner else ""
            print(
                f"created {api_key.role} key '{api_key.name}'{owned} (shown once, only its hash is stored):"
            )
    finally:
        engine.dispose()
    print(raw_key)
    return 0


def _list_keys(settings: Settings, _args: argparse.Namespace) -> int:
    """Tab-separated, so a name with spaces stays one column; of the key itself, only its first characters."""
    from ccm.access.service import list_api_keys, shown_prefix
    from ccm.access.users import list_users
    from ccm.database import make_engine, session_scope

    engine = make_engine(settings.database_url)
    with session_scope(engine) as session:
        emails = {user.id: user.email for user in list_users(session)}
        for key in list_api_keys(session):
            revoked = key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else "-"
            created = key.created_at.isoformat(timespec="seconds")
            owner = emails.get(key.owner_user_id, "-")
            print(f"{key.id}\t{key.role}\t{key.name}\t{shown_prefix(key)}\t{created}\t{revoked}\t{owner}")
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


def _read_password() -> str | None:
    """The first line of standard input when it is not a terminal (a pipe, a script); else asked twice,
    unechoed. None when the two typed passwords differ."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != password:
        print("ccm: the two passwords differ; nothing was created", file=sys.stderr)
        return None
    return password


def _create_user(settings: Settings, args: argparse.Namespace) -> int:
    """A person who signs in to the web UI with email and password; a taken email or weak password exits 1."""
    from ccm.access.users import create_user
    from ccm.database import make_engine, session_scope
    from ccm.errors import ApiError

    password = _read_password()
    if password is None:
        return 1
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            user = create_user(session, email=args.email, role=Role(args.role), password=password)
            print(f"created {user.role} user {user.id} {user.email}")
    except ApiError as error:
        print(f"ccm: {error.message}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0


def _list_users(settings: Settings, _args: argparse.Namespace) -> int:
    """Tab-separated like `keys list`; no password hash."""
    from ccm.access.users import list_users
    from ccm.database import make_engine, session_scope

    engine = make_engine(settings.database_url)
    with session_scope(engine) as session:
        for user in list_users(session):
            created = user.created_at.isoformat(timespec="seconds")
            disabled = user.disabled_at.isoformat(timespec="seconds") if user.disabled_at else "-"
            print(f"{user.id}\t{user.email}\t{user.role}\t{created}\t{disabled}")
    engine.dispose()
    return 0


def _disable_user(settings: Settings, args: argparse.Namespace) -> int:
    """Disabling twice succeeds and reports the first time, like revoking a key."""
    from ccm.access.users import disable_user
    from ccm.database import make_engine, session_scope
    from ccm.errors import NotFound

    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            user = disable_user(session, args.email)
    except NotFound as error:
        print(f"ccm: {error.message}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    disabled = user.disabled_at.isoformat(timespec="seconds") if user.disabled_at else "?"
    print(f"user {user.id} {user.email} disabled at {disabled}")
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
