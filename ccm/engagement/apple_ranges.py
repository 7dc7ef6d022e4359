"""Apple's published egress ranges, loaded by an operator, to recognise Mail Privacy Protection by address.

Apple publishes the addresses its relays fetch from as a CSV (`prefix,country,region,city`, one range a
line). This machine cannot download it, so an operator fetches it and loads it with
`ccm tracking load-apple-ranges FILE`; the ranges are kept as one CIDR a line in a file under the data dir
(no table: they are replaced whole, never edited). Lookups bisect merged, sorted ranges, so the ~100k-line
list costs a logarithmic search per open, and the file is read again only when it changes.
"""

from __future__ import annotations

import bisect
import csv
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class InvalidRanges(ValueError):
    """A line of the CSV whose first column is not an IP prefix."""


def ranges_file(data_dir: Path) -> Path:
    """Where the loaded ranges live: beside the rest of the service's data."""
    return data_dir / "tracking" / "apple-egress-ranges.txt"


def parse_csv(lines: Iterable[str]) -> list[Network]:
    """The prefixes of Apple's CSV; blank lines and `#` comments are skipped, anything else must parse."""
    networks: list[Network] = []
    for number, row in enumerate(csv.reader(lines), start=1):
        if not row or not row[0].strip() or row[0].lstrip().startswith("#"):
            continue
        try:
            networks.append(ipaddress.ip_network(row[0].strip(), strict=False))
        except ValueError:
            raise InvalidRanges(f"line {number}: {row[0].strip()!r} is not an IP prefix") from None
    return networks


def load_ranges(source: Path, data_dir: Path) -> int:
    """Replace the stored ranges with those of `source` (all or nothing); the number of ranges stored."""
    with source.open(encoding="utf-8", newline="") as handle:
        networks = parse_csv(handle)
    target = ranges_file(data_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".tmp")
    partial.write_text("".join(f"{network}\n" for network in networks), encoding="utf-8")
    partial.replace(target)
    return len(networks)


@dataclass(frozen=True)
class AddressRanges:
    """Merged, sorted ranges per IP version, as (first, last) integers, searched by bisection."""

    starts: dict[int, list[int]]
    ends: dict[int, list[int]]

    @classmethod
    def of(cls, networks: Iterable[Network]) -> AddressRanges:
        """Overlapping and adjacent ranges merged, so one bisection answers each lookup."""
        starts: dict[int, list[int]] = {4: [], 6: []}
        ends: dict[int, list[int]] = {4: [], 6: []}
        every = list(networks)
        for version in (4, 6):
            same = [n for n in every if n.version == version]
            for merged in ipaddress.collapse_addresses(same):  # type: ignore[type-var]
                starts[version].append(int(merged.network_address))
                ends[version].append(int(merged.broadcast_address))
        return cls(starts, ends)

    def __contains__(self, address: object) -> bool:
        try:
            ip = ipaddress.ip_address(str(address))
        except ValueError:
            return False
        value, starts = int(ip), self.starts[ip.version]
        at = bisect.bisect_right(starts, value) - 1
        return at >= 0 and value <= self.ends[ip.version][at]


EMPTY = AddressRanges({4: [], 6: []}, {4: [], 6: []})


def stored_ranges(data_dir: Path) -> AddressRanges:
    """The loaded ranges (none when the operator loaded none), read again only when the file changes."""
    path = ranges_file(data_dir)
    try:
        changed = path.stat().st_mtime_ns
    except FileNotFoundError:
        return EMPTY
    return _read(path, changed)


@lru_cache(maxsize=4)
def _read(path: Path, _changed: int) -> AddressRanges:
    lines = path.read_text(encoding="utf-8").splitlines()
    return AddressRanges.of(ipaddress.ip_network(line, strict=False) for line in lines if line)
