"""`ccm tracking ...`: load Apple's egress ranges, so opens through Mail Privacy Protection are recognised."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ccm.engagement.apple_ranges import InvalidRanges, load_ranges, ranges_file
from ccm.settings import Settings


def add_commands(commands: Any) -> None:
    """Register `ccm tracking` and its subcommands on the top-level subparsers."""
    tracking = commands.add_parser("tracking", help="how tracked opens and clicks are judged")
    sub = tracking.add_subparsers(dest="tracking_command", required=True)
    apple = sub.add_parser(
        "load-apple-ranges",
        help="replace the Apple egress ranges with FILE (Apple's CSV: prefix,country,region,city)",
    )
    apple.add_argument("file", type=Path)
    apple.set_defaults(handler=load_apple_ranges)


def load_apple_ranges(settings: Settings, args: argparse.Namespace) -> int:
    """Store the ranges of the CSV under the data dir; exit 1 naming the line that is not a prefix."""
    try:
        count = load_ranges(args.file, settings.data_dir)
    except (OSError, UnicodeDecodeError, InvalidRanges) as error:
        print(f"ccm: {args.file}: {error}", file=sys.stderr)
        return 1
    print(f"loaded {count} Apple egress ranges into {ranges_file(settings.data_dir)}")
    return 0
