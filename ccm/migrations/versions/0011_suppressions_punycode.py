"""email suppressions: an IDN domain kept as its punycode A-label, so either written form matches

Email addresses on the suppression list are now kept and looked up with the domain in IDNA 2008 punycode
(`ccm.channels.email.normalise_address`). Rows written before, with the domain in Unicode, are rewritten
here; where both forms of one address were listed, the older row is kept (the first reason wins, as when
suppressing). The conversion is written out here rather than imported, so later code cannot change it. A
downgrade writes the domains back in Unicode, the form the old lookups used for customers' addresses.

Revision ID: 0011
Revises: 0005
Create Date: 2026-12-08
"""

from collections.abc import Callable, Sequence

import idna
import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUPPRESSIONS = sa.table(
    "suppressions", sa.column("id", sa.Integer), sa.column("channel"), sa.column("address")
)


def _to_punycode(domain: str) -> str:
    return domain if domain.isascii() else str(idna.encode(domain, uts46=True).decode("ascii"))


def _to_unicode(domain: str) -> str:
    return str(idna.decode(domain)) if "xn--" in domain else domain


def _converted(address: str, convert: Callable[[str], str]) -> str:
    """The address with its domain converted; as it was without a domain or when the domain has no IDNA form."""
    local, at, domain = address.rpartition("@")
    try:
        return f"{local}@{convert(domain)}" if at else address
    except idna.IDNAError:
        return address


def _rewrite(convert: Callable[[str], str]) -> None:
    """Convert every email suppression's domain; of two rows that become one address, the older stays."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(SUPPRESSIONS.c.id, SUPPRESSIONS.c.address)
        .where(SUPPRESSIONS.c.channel == "email")
        .order_by(SUPPRESSIONS.c.id)
    ).all()
    oldest: dict[str, tuple[int, str]] = {}
    duplicates: list[int] = []
    for row_id, address in rows:
        target = _converted(address, convert)
        if target in oldest:
            duplicates.append(row_id)
        else:
            oldest[target] = (row_id, address)
    if duplicates:  # first, so that no update meets the unique constraint on (channel, address)
        bind.execute(SUPPRESSIONS.delete().where(SUPPRESSIONS.c.id.in_(duplicates)))
    for target, (row_id, address) in oldest.items():
        if target != address:
            bind.execute(SUPPRESSIONS.update().where(SUPPRESSIONS.c.id == row_id).values(address=target))


def upgrade() -> None:
    _rewrite(_to_punycode)


def downgrade() -> None:
    _rewrite(_to_unicode)
