"""`ccm templates pull DIR` and `ccm templates push DIR [--as EMAIL]`: the registry as files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ccm.settings import Settings


def add_commands(commands: Any) -> None:
    """Register `ccm templates` and its subcommands on the top-level subparsers."""
    group = commands.add_parser(
        "templates", help="templates as code: pull the registry to files, push drafts"
    )
    sub = group.add_subparsers(dest="templates_command", required=True)
    pull = sub.add_parser("pull", help="write each template's, layout's and partial's latest version to DIR")
    pull.add_argument("dir", type=Path, metavar="DIR")
    pull.set_defaults(handler=_pull)
    push = sub.add_parser(
        "push", help="save what differs in DIR as new drafts (new templates too); never publishes"
    )
    push.add_argument("dir", type=Path, metavar="DIR")
    push.add_argument(
        "--as",
        dest="as_email",
        metavar="EMAIL",
        help="the user recorded as the drafts' author, whom four-eyes keeps from approving them"
        " (default: the identity 'cli')",
    )
    push.set_defaults(handler=_push)


def _pull(settings: Settings, args: argparse.Namespace) -> int:
    from ccm.database import make_engine, session_scope
    from ccm.registry.as_code.sync import pull

    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            lines = pull(session, args.dir)
    finally:
        engine.dispose()
    print("\n".join(lines) if lines else "the registry has no templates, layouts or partials")
    return 0


def _push(settings: Settings, args: argparse.Namespace) -> int:
    """Everything or nothing: a refusal prints one line naming the file and the problem, and exits 1."""
    from ccm.database import make_engine, session_scope
    from ccm.errors import ApiError
    from ccm.registry.as_code.sync import push

    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            lines = push(session, args.dir, _author(session, args.as_email))
    except ApiError as error:
        print(f"ccm: {error.message}; nothing was pushed", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print("\n".join(lines) if lines else f"nothing to push: {args.dir} holds no template folders")
    return 0


def _author(session: Any, email: str | None) -> str:
    """The identity the drafts are saved by: the user named (an enabled one), or `cli`."""
    from ccm.access.identity import CLI_IDENTITY, identity_of
    from ccm.access.users import find_user
    from ccm.errors import Unprocessable

    if email is None:
        return CLI_IDENTITY
    user = find_user(session, email)
    if user is None or user.disabled_at is not None:
        raise Unprocessable(f"--as {email}: no enabled user with this email; see `ccm users list`")
    return identity_of(user)
